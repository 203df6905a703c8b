package fr.tierspay.shell.bench

import com.sun.jna.Native
import com.sun.jna.Platform
import fr.tierspay.core.CoreConfig
import fr.tierspay.core.TiersPay
import fr.tierspay.core.UniffiRustCallStatus
import fr.tierspay.core.coreVersion
import fr.tierspay.shell.DeviceKeyBridge
import fr.tierspay.shell.SecretStoreBridge
import fr.tierspay.shell.platform.InMemorySecretStore
import fr.tierspay.shell.platform.SoftwareDeviceKey
import fr.tierspay.shell.support.MockServer
import kotlinx.coroutines.runBlocking
import java.io.File
import java.nio.file.Files

/**
 * FFI cost of one sync call from Kotlin through JNA into the core, not a test. Run it with
 * `mvn -B -q -Pbench test` (see android/README.md). Each figure is the distribution of single
 * calls timed with System.nanoTime after a warm-up of the same length.
 */
fun main() {
    val iterations = Integer.getInteger("bench.iterations", 20_000)
    val dataDir = Files.createTempDirectory("tierspay-bench").toFile()
    val mock = runCatching { MockServer.start() }.getOrNull()
    try {
        val secrets = InMemorySecretStore()
        val core = TiersPay(
            CoreConfig(mock?.url ?: "http://127.0.0.1:9", dataDir.path, mock?.publicKey ?: dummyServerKey(), "bench"),
            SecretStoreBridge(secrets),
            DeviceKeyBridge(SoftwareDeviceKey(secrets)),
        )
        println(
            "TiersPay FFI cost: core ${coreVersion()} (${File(System.getProperty("jna.library.path") ?: "?").name} build), " +
                "JNA ${Native.VERSION}, JVM ${System.getProperty("java.vm.version")}, " +
                "${Runtime.getRuntime().availableProcessors()} CPUs; $iterations warm calls each",
        )
        println("%-44s %9s %9s %9s %9s".format("call", "p10", "median", "p90", "p99"))
        report("baseline: JNA direct call, libc getpid()", measure(iterations) { LibC.getpid() })
        // Every generated call allocates one of these (a JNA Structure holding another) per FFI
        // call, and a method call is two FFI calls (clone the handle, then the method).
        report("baseline: new UniffiRustCallStatus()", measure(iterations) { UniffiRustCallStatus() })
        report("roundTrips()  (u64, no buffer)", measure(iterations) { core.roundTrips() })
        report("coreVersion()  (string back)", measure(iterations) { coreVersion() })
        report("status()  not enrolled (SQLite read)", measure(iterations) { core.status() })
        if (mock != null) {
            runBlocking {
                val challenge = core.enrollment().start(MockServer.DEMO_CONTRACT, MockServer.DEMO_BIRTH_DATE)
                core.enrollment().confirm(challenge.enrollmentId, mock.lastSmsCode())
            }
            check(core.status().enrolled)
            report("status()  enrolled (+1 storage callback, profile)", measure(iterations) { core.status() })
        } else {
            println("(tierspay-mock not found: enrolled status not measured)")
        }
        core.close()
    } finally {
        mock?.close()
        dataDir.deleteRecursively()
    }
}

/** JNA direct mapping, as the bindings use it, to a C function that does nothing: JNA's own floor. */
private object LibC {
    init {
        Native.register(LibC::class.java, Platform.C_LIBRARY_NAME)
    }

    external fun getpid(): Int
}

private inline fun measure(iterations: Int, call: () -> Any): LongArray {
    var sink = 0
    repeat(iterations) { sink += call().hashCode() }
    val samples = LongArray(iterations)
    for (i in 0 until iterations) {
        val start = System.nanoTime()
        sink += call().hashCode()
        samples[i] = System.nanoTime() - start
    }
    if (sink == 42) println()
    return samples.also { it.sort() }
}

private fun report(name: String, sorted: LongArray) {
    fun pct(p: Double) = sorted[((sorted.size - 1) * p).toInt()]
    fun us(ns: Long) = "%.2f µs".format(ns / 1000.0)
    println("%-44s %9s %9s %9s %9s".format(name, us(pct(0.10)), us(pct(0.50)), us(pct(0.90)), us(pct(0.99))))
}

private fun dummyServerKey(): String =
    SoftwareDeviceKey(InMemorySecretStore()).publicKey().joinToString("") { "%02x".format(it) }
