package fr.tierspay.shell.state

import fr.tierspay.shell.TiersPayError
import fr.tierspay.shell.TiersPayError.Kind
import fr.tierspay.shell.support.FakeClient
import fr.tierspay.shell.support.sampleChallenge
import fr.tierspay.shell.support.sampleProfile
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.ExperimentalCoroutinesApi
import kotlinx.coroutines.test.TestScope
import kotlinx.coroutines.test.advanceUntilIdle
import kotlinx.coroutines.test.runCurrent
import kotlinx.coroutines.test.runTest
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

@OptIn(ExperimentalCoroutinesApi::class)
class EnrollmentModelTest {
    private val client = FakeClient()

    private fun TestScope.model(contract: String? = null) = EnrollmentModel(client, this, contract)

    private inline fun <reified S : EnrollmentState> EnrollmentModel.at(): S = assertInstanceOf(S::class.java, state.value)

    private fun TestScope.atCodeStep(model: EnrollmentModel) {
        model.onContractNumberChange(" TP1000001 ")
        model.onBirthDateChange("1985-04-12")
        model.submitDetails()
        advanceUntilIdle()
    }

    @Test
    fun `details, then code with the masked phone, then enrolled`() = runTest {
        val m = model()
        assertFalse(m.at<EnrollmentState.Details>().canSubmit)
        atCodeStep(m)

        val code = m.at<EnrollmentState.Code>()
        assertEquals("+33 6 •• •• •• 78", code.challenge.phoneMasked)
        assertEquals("start(TP1000001,1985-04-12)", client.calls.single())

        m.onCodeChange("12 34-56 789")
        assertEquals("123456", m.at<EnrollmentState.Code>().code)
        assertTrue(m.at<EnrollmentState.Code>().canSubmit)
        m.submitCode()
        assertTrue(m.state.value.busy)
        advanceUntilIdle()

        assertEquals(EnrollmentState.Enrolled(sampleProfile()), m.state.value)
        assertEquals("confirm(enr_1,123456)", client.calls.last())
    }

    @Test
    fun `a submit while busy is ignored`() = runTest {
        val gate = CompletableDeferred<Unit>()
        client.onStart = { _, _ -> gate.await(); sampleChallenge() }
        val m = model("TP1000001")
        m.onBirthDateChange("1985-04-12")
        m.submitDetails()
        runCurrent()
        assertTrue(m.at<EnrollmentState.Details>().busy)
        m.submitDetails()
        m.onContractNumberChange("changed")
        runCurrent()
        gate.complete(Unit)
        advanceUntilIdle()

        assertEquals(1, client.calls.size)
        assertEquals("TP1000001", m.at<EnrollmentState.Code>().contractNumber)
    }

    @Test
    fun `an invalid field is shown on that field, and editing it clears the error`() = runTest {
        client.onStart = { _, _ -> throw TiersPayError.InvalidInput("birth_date", "must be a date written YYYY-MM-DD") }
        val m = model("TP1000001")
        m.onBirthDateChange("12/04/1985")
        m.submitDetails()
        advanceUntilIdle()

        val s = m.at<EnrollmentState.Details>()
        assertEquals(FormError("must be a date written YYYY-MM-DD", Kind.INVALID_INPUT, EnrollmentField.BIRTH_DATE), s.error)
        assertEquals("12/04/1985", s.birthDate)
        assertFalse(s.busy)

        m.onBirthDateChange("1985-04-12")
        assertNull(m.state.value.error)
    }

    @Test
    fun `no match is a form-level error, never a hint at which field is wrong`() = runTest {
        client.onStart = { _, _ -> throw TiersPayError.Rejected("enrollment_not_matched", "No contract matches.") }
        val m = model("TP1000001")
        m.onBirthDateChange("1990-01-01")
        m.submitDetails()
        advanceUntilIdle()
        assertEquals(FormError("No contract matches.", Kind.REJECTED, null), m.state.value.error)
    }

    @Test
    fun `a wrong code stays on the code step, clears the code and marks the field`() = runTest {
        client.onConfirm = { _, _ -> throw TiersPayError.Rejected("code_incorrect", "Wrong code.") }
        val m = model()
        atCodeStep(m)
        m.onCodeChange("000000")
        m.submitCode()
        advanceUntilIdle()

        val s = m.at<EnrollmentState.Code>()
        assertEquals("", s.code)
        assertEquals(EnrollmentField.CODE, s.error?.field)
        assertEquals("Wrong code.", s.error?.message)
    }

    @Test
    fun `an expired code goes back to the details with the error`() = runTest {
        client.onConfirm = { _, _ -> throw TiersPayError.Rejected("code_expired", "This code has expired.") }
        val m = model()
        atCodeStep(m)
        m.onCodeChange("123456")
        m.submitCode()
        advanceUntilIdle()

        val s = m.at<EnrollmentState.Details>()
        assertEquals(" TP1000001 ", s.contractNumber)
        assertEquals("This code has expired.", s.error?.message)
    }

    @Test
    fun `a network failure keeps the typed code for a retry`() = runTest {
        client.onConfirm = { _, _ -> throw TiersPayError.Network("Network unavailable: timeout") }
        val m = model()
        atCodeStep(m)
        m.onCodeChange("123456")
        m.submitCode()
        advanceUntilIdle()

        val s = m.at<EnrollmentState.Code>()
        assertEquals("123456", s.code)
        assertEquals(FormError("Network unavailable: timeout", Kind.NETWORK, null), s.error)
    }

    @Test
    fun `resend replaces the challenge, back keeps what was typed`() = runTest {
        val m = model()
        atCodeStep(m)
        client.onStart = { _, _ -> sampleChallenge("enr_2") }
        m.onCodeChange("12")
        m.resendCode()
        advanceUntilIdle()
        assertEquals("enr_2", m.at<EnrollmentState.Code>().challenge.enrollmentId)
        assertEquals("", m.at<EnrollmentState.Code>().code)

        m.back()
        assertEquals(EnrollmentState.Details(" TP1000001 ", "1985-04-12"), m.state.value)
    }

    @Test
    fun `an answer arriving after reset is dropped`() = runTest {
        val gate = CompletableDeferred<Unit>()
        client.onStart = { _, _ -> gate.await(); sampleChallenge() }
        val m = model("TP1000001")
        m.onBirthDateChange("1985-04-12")
        m.submitDetails()
        runCurrent()
        m.reset("TP2000002")
        gate.complete(Unit)
        advanceUntilIdle()
        assertEquals(EnrollmentState.Details("TP2000002"), m.state.value)
    }

    @Test
    fun `prefill fills the details, restarts a code step for another contract, ignores enrolled`() = runTest {
        val m = model()
        m.onBirthDateChange("1985-04-12")
        m.prefill("TP1000001")
        assertEquals(EnrollmentState.Details("TP1000001", "1985-04-12"), m.state.value)

        atCodeStep(m)
        m.prefill("TP2000002")
        assertEquals(EnrollmentState.Details("TP2000002"), m.state.value)

        atCodeStep(m)
        m.onCodeChange("123456")
        m.submitCode()
        advanceUntilIdle()
        m.prefill("TP3000003")
        m.at<EnrollmentState.Enrolled>()
    }
}
