package fr.tierspay.shell.platform

import fr.tierspay.shell.TiersPayError
import fr.tierspay.shell.support.FakeApiException
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.ExperimentalCoroutinesApi
import kotlinx.coroutines.async
import kotlinx.coroutines.launch
import kotlinx.coroutines.test.runCurrent
import kotlinx.coroutines.test.runTest
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertSame
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** Google Pay's activity results across recreation, and the mapping of the SDK's exceptions. */
@OptIn(ExperimentalCoroutinesApi::class)
class TapAndPayResultsTest {
    /** What `SavedStateHandle` keeps across the process. */
    private class Saved(override var requestCode: Int? = null) : SavedRequest

    @Test
    fun `a recreated activity's result reaches the call still waiting`() = runTest {
        val saved = Saved()
        val results = TapAndPayResults(saved) // in the ViewModel: the same one after a rotation
        var started = 0
        val call = async { results.await(PUSH, remember = true) { started++ } }
        runCurrent()
        assertEquals(1, started)
        assertEquals(PUSH, saved.requestCode)
        assertFalse(results.deliver(WALLET, TokenizeResult.Canceled), "not the request waiting")
        assertTrue(results.deliver(PUSH, TokenizeResult.Added("tok_1")))
        assertEquals(TokenizeResult.Added("tok_1"), call.await())
        assertNull(saved.requestCode, "nothing pending any more")
        assertNull(results.restored)
    }

    @Test
    fun `a result after the process died completes restored, once`() = runTest {
        val results = TapAndPayResults(Saved(PUSH)) // the new process, from the saved state
        val restored = results.restored!!
        assertFalse(restored.isCompleted)
        assertFalse(results.deliver(TOKENIZE, TokenizeResult.Canceled))
        assertTrue(results.deliver(PUSH, TokenizeResult.Added("tok_1")))
        assertEquals(TokenizeResult.Added("tok_1"), restored.await())
        assertFalse(results.deliver(PUSH, TokenizeResult.Canceled), "answered already")
    }

    @Test
    fun `no result before onResume means none will come`() = runTest {
        val saved = Saved(TOKENIZE)
        val results = TapAndPayResults(saved)
        results.resumedWithoutResult()
        assertNull(results.restored!!.await())
        assertNull(saved.requestCode)
        assertNull(TapAndPayResults(Saved()).restored, "nothing pending at start")
    }

    @Test
    fun `a wallet creation is not kept, a cancelled or failed start is forgotten`() = runTest {
        val saved = Saved()
        val results = TapAndPayResults(saved)
        val creating = launch { results.await(WALLET, remember = false) {} }
        runCurrent()
        assertNull(saved.requestCode)
        creating.cancel()
        runCurrent()

        val pushing = launch { results.await(PUSH, remember = true) {} }
        runCurrent()
        assertEquals(PUSH, saved.requestCode)
        pushing.cancel()
        runCurrent()
        assertNull(saved.requestCode)
        assertFalse(results.deliver(PUSH, TokenizeResult.Canceled), "the call is gone")

        assertThrows<IllegalStateException> {
            kotlinx.coroutines.runBlocking { results.await(PUSH, remember = true) { error("no activity") } }
        }
        assertNull(saved.requestCode)
    }

    @Test
    fun `tapAndPayCall maps the SDK's exceptions to Platform, keeps the shell's and the caller's cancellation`() = runTest {
        val status = { e: Exception -> (e as? FakeApiException)?.statusCode }
        val api = assertThrows<TiersPayError.Platform> {
            kotlinx.coroutines.runBlocking {
                tapAndPayCall("getActiveWalletId", status) { throw FakeApiException(FakeApiException.NETWORK_ERROR, "network") }
            }
        }
        assertTrue(api.message.contains("status 7"), api.message)
        assertTrue(api.cause is FakeApiException)

        val other = assertThrows<TiersPayError.Platform> {
            kotlinx.coroutines.runBlocking { tapAndPayCall("listTokens", status) { throw SecurityException("no Play services") } }
        }
        assertFalse(other.message.contains("Play services"), "the SDK's text is not the member's")

        val ours = TiersPayError.InvalidInput("device_id", "empty")
        assertSame(
            ours,
            assertThrows<TiersPayError.InvalidInput> {
                kotlinx.coroutines.runBlocking { tapAndPayCall("x", status) { throw ours } }
            },
        )

        // A task cancelled under the SDK, the caller still active: a failure, not a silent stop.
        assertThrows<TiersPayError.Platform> {
            kotlinx.coroutines.runBlocking { tapAndPayCall("x", status) { throw CancellationException("task") } }
        }
        // The caller cancelled: cancellation propagates untouched.
        val job = launch { tapAndPayCall("x", status) { kotlinx.coroutines.awaitCancellation() } }
        runCurrent()
        job.cancel()
        runCurrent()
        assertTrue(job.isCancelled)
        assertEquals(7, tapAndPayCall("x", status) { 7 })
    }

    private companion object {
        const val PUSH = 7001
        const val TOKENIZE = 7002
        const val WALLET = 7003
    }
}
