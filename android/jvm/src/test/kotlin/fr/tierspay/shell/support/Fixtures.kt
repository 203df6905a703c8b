package fr.tierspay.shell.support

import fr.tierspay.shell.Beneficiary
import fr.tierspay.shell.CodeChallenge
import fr.tierspay.shell.Contract
import fr.tierspay.shell.ContractStatus
import fr.tierspay.shell.Destination
import fr.tierspay.shell.Member
import fr.tierspay.shell.MemberProfile
import fr.tierspay.shell.Relationship
import fr.tierspay.shell.Session
import fr.tierspay.shell.SessionChange
import fr.tierspay.shell.TiersPayClient
import fr.tierspay.shell.TiersPayError
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableSharedFlow
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.fail
import java.time.Instant
import java.time.LocalDate

/** Runs [block] and returns the [TiersPayError] of type [E] it must throw. */
suspend inline fun <reified E : TiersPayError> expectError(block: suspend () -> Unit): E {
    try {
        block()
    } catch (e: TiersPayError) {
        return assertInstanceOf(E::class.java, e)
    }
    fail<Unit>("expected ${E::class.simpleName}, nothing was thrown")
    throw IllegalStateException("unreachable")
}

fun sampleChallenge(id: String = "enr_1") = CodeChallenge(
    enrollmentId = id,
    phoneMasked = "+33 6 •• •• •• 78",
    codeLength = 6,
    expiresAt = Instant.ofEpochSecond(1_900_000_000),
)

fun sampleProfile(firstName: String = "Camille") = MemberProfile(
    deviceId = "dev_1",
    enrolledAt = Instant.ofEpochSecond(1_800_000_000),
    member = Member("mem_1", firstName, "Martin", "+33 6 •• •• •• 78", "c•••@example.fr"),
    contract = Contract("ctr_1", "TP1000001", "Mutuelle Exemple", "Santé Plus", LocalDate.of(2024, 1, 1), ContractStatus.ACTIVE),
    beneficiaries = listOf(
        Beneficiary("ben_1", firstName, "Martin", LocalDate.of(1985, 4, 12), Relationship.HOLDER),
    ),
)

/** A [TiersPayClient] for view-state tests: canned answers, overridable per test, calls recorded. */
class FakeClient : TiersPayClient {
    var session: Session = Session.NotEnrolled
    val events = MutableSharedFlow<SessionChange>(extraBufferCapacity = 16)
    val calls = mutableListOf<String>()

    var onStart: suspend (contractNumber: String, birthDate: String) -> CodeChallenge = { _, _ -> sampleChallenge() }
    var onConfirm: suspend (enrollmentId: String, code: String) -> MemberProfile = { _, _ -> sampleProfile() }
    var onRefresh: suspend () -> MemberProfile = { sampleProfile() }
    var onSignOut: suspend () -> Unit = {}

    override suspend fun session(): Session = session.also { calls += "session" }

    override suspend fun startEnrollment(contractNumber: String, birthDate: String): CodeChallenge {
        calls += "start($contractNumber,$birthDate)"
        return onStart(contractNumber, birthDate)
    }

    override suspend fun confirmEnrollment(enrollmentId: String, code: String): MemberProfile {
        calls += "confirm($enrollmentId,$code)"
        return onConfirm(enrollmentId, code)
    }

    override suspend fun refreshProfile(): MemberProfile = onRefresh().also { calls += "refresh" }

    override suspend fun signOut() {
        calls += "signOut"
        onSignOut()
    }

    override fun sessionEvents(): Flow<SessionChange> = events

    override fun routeForLink(url: String): Destination = when {
        url == "tierspay://home" -> Destination.Home
        url.startsWith("tierspay://enroll") ->
            Destination.Enroll(url.substringAfter("contract=", "").ifEmpty { null })
        else -> throw TiersPayError.InvalidInput("url", "the link is not a TiersPay link")
    }

    override fun routeForPush(data: Map<String, String>): Destination =
        data["link"]?.let(::routeForLink) ?: Destination.Home
}
