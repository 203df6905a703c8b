package fr.tierspay.shell

import fr.tierspay.core.CoreException
import fr.tierspay.core.InternalException
import fr.tierspay.shell.TiersPayError.Kind
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertInstanceOf
import org.junit.jupiter.api.Assertions.assertSame
import org.junit.jupiter.api.Assertions.assertThrows
import org.junit.jupiter.api.Test
import kotlin.coroutines.cancellation.CancellationException

/** CoreException → TiersPayError, without loading the library (generated exceptions are plain classes). */
class ErrorMappingTest {

    private fun mapped(e: Exception): TiersPayError = assertThrows(TiersPayError::class.java) { mapCoreErrors<Unit> { throw e } }

    @Test
    fun `every core error maps to its kind, keeping what the UI shows`() {
        val invalid = assertInstanceOf(
            TiersPayError.InvalidInput::class.java,
            mapped(CoreException.InvalidInput("birth_date", "must be a date written YYYY-MM-DD")),
        )
        assertEquals(Kind.INVALID_INPUT, invalid.kind)
        assertEquals("birth_date", invalid.field)
        assertEquals("must be a date written YYYY-MM-DD", invalid.message)

        val rejected = assertInstanceOf(
            TiersPayError.Rejected::class.java,
            mapped(CoreException.Rejected(fr.tierspay.core.ErrorCode.CODE_INCORRECT, "This code is not right.")),
        )
        assertEquals(Kind.REJECTED, rejected.kind)
        assertEquals("code_incorrect", rejected.code)
        assertEquals("This code is not right.", rejected.message)

        val limited = assertInstanceOf(TiersPayError.RateLimited::class.java, mapped(CoreException.RateLimited(42u)))
        assertEquals(42L, limited.retryAfterSeconds)
        assertEquals("Too many attempts. Try again in 42 s.", limited.message)
        assertEquals("Too many attempts. Try again in 15 min.", TiersPayError.RateLimited(900).message)

        val kinds = mapOf(
            CoreException.Network("connection refused") to Kind.NETWORK,
            CoreException.NotEnrolled() to Kind.NOT_ENROLLED,
            CoreException.NotSynced("connect once") to Kind.NOT_SYNCED,
            CoreException.SessionEnded("enroll again") to Kind.SESSION_ENDED,
            CoreException.Platform("keystore") to Kind.PLATFORM,
            CoreException.Internal("bad json") to Kind.INTERNAL,
        )
        for ((core, kind) in kinds) {
            val e = mapped(core)
            assertEquals(kind, e.kind, "$core")
            assertSame(core, e.cause)
        }
        assertEquals("Network unavailable: connection refused", mapped(CoreException.Network("connection refused")).message)
        assertEquals("enroll again", mapped(CoreException.SessionEnded("enroll again")).message)
        assertEquals(Kind.INTERNAL, mapped(InternalException("panic")).kind)
    }

    @Test
    fun `cancellation and foreign exceptions pass through`() {
        val cancel = CancellationException("stop")
        assertSame(cancel, assertThrows(CancellationException::class.java) { mapCoreErrors<Unit> { throw cancel } })
        assertThrows(IllegalArgumentException::class.java) { mapCoreErrors<Unit> { throw IllegalArgumentException() } }
    }
}
