package fr.tierspay.shell.bench

import com.sun.jna.Native
import com.sun.jna.Platform
import fr.tierspay.core.CoreConfig
import fr.tierspay.core.FfiConverterTypeCoveragePreview
import fr.tierspay.core.Language
import fr.tierspay.core.PreviewRequest
import fr.tierspay.core.TiersPay
import fr.tierspay.core.UniffiRustCallStatus
import fr.tierspay.core.coreVersion
import fr.tierspay.core.quoteDocument
import fr.tierspay.shell.CoreTiersPayClient
import fr.tierspay.shell.DeviceKeyBridge
import fr.tierspay.shell.SecretStoreBridge
import fr.tierspay.shell.ShellConfig
import fr.tierspay.shell.platform.InMemorySecretStore
import fr.tierspay.shell.platform.SoftwareDeviceKey
import fr.tierspay.shell.support.MockServer
import kotlinx.coroutines.runBlocking
import java.io.File
import java.nio.ByteBuffer
import java.nio.file.Files
import java.time.LocalDate
import java.util.Locale

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
        println("%-50s %9s %9s %9s %9s".format("call", "p10", "median", "p90", "p99"))
        report("baseline: JNA direct call, libc getpid()", measure(iterations) { LibC.getpid() })
        // Every generated call allocates one of these (a JNA Structure holding another) per FFI
        // call, and a method call is two FFI calls (clone the handle, then the method).
        report("baseline: new UniffiRustCallStatus()", measure(iterations) { UniffiRustCallStatus() })
        report("roundTrips()  (u64, no buffer)", measure(iterations) { core.roundTrips() })
        report("coreVersion()  (string back)", measure(iterations) { coreVersion() })
        report("status()  not enrolled (SQLite read)", measure(iterations) { core.status() })
        // The coverage engine alone (no SQLite), JSON in and out: the floor under preview().
        check(quoteDocument(QUOTE).contains("\"member\":\"2.00\""))
        report("quoteDocument()  (engine, JSON in and out)", measure(iterations) { quoteDocument(QUOTE) })
        if (mock != null) {
            runBlocking {
                val challenge = core.enrollment().start(MockServer.DEMO_CONTRACT, MockServer.DEMO_BIRTH_DATE)
                core.enrollment().confirm(challenge.enrollmentId, mock.lastSmsCode())
            }
            check(core.status().enrolled)
            report("status()  enrolled (+1 storage callback, profile)", measure(iterations) { core.status() })

            // Coverage: the doctor's-desk figures, computed on the phone. Enrollment synced the
            // guarantees; the provider is selected once (it is then in the phone's cache).
            val coverage = core.coverage()
            val camille = coverage.beneficiaries().first { it.firstName == "Camille" }.id
            val gp = runBlocking {
                val found = coverage.searchProviders("", "Médecin généraliste", "Paris", 50u)
                coverage.selectProvider(found.providers.first { it.sector.toInt() == 1 }.id)
            }
            // One record argument: each String argument would be a RustBuffer of its own, allocated
            // by an FFI call (and a UniffiRustCallStatus) before the call itself.
            val request = PreviewRequest(camille, gp.id, "G", "30", "2026-03-02", Language.FR)
            val preview = coverage.preview(request)
            check(preview.amo.minorUnits == 1900L && preview.amc.minorUnits == 900L && preview.member.minorUnits == 200L) { "$preview" }
            report(
                "coverage.preview()  (in-memory data + engine, figures)",
                measure(iterations) { coverage.preview(request) },
            )
            check(coverage.explain(preview.id, Language.FR).isNotEmpty())
            report(
                "coverage.explain()  (the sentences, one language)",
                measure(iterations) { coverage.explain(preview.id, Language.FR) },
            )
            // Where the preview's time goes: the same record decoded from a heap buffer, no call.
            val encoded = ByteBuffer.allocate(FfiConverterTypeCoveragePreview.allocationSize(preview).toInt())
            FfiConverterTypeCoveragePreview.write(preview, encoded)
            println("  (the preview record is ${encoded.position()} bytes)")
            report(
                "  decode only: the preview record, no call",
                measure(iterations) { FfiConverterTypeCoveragePreview.read(encoded.duplicate().flip()) },
            )
            coverage.close()
            core.close()

            // The same call as the app makes it: the adapter (Dispatchers.IO hop, mapping to the
            // shell's models), on a new core over the same data and storage.
            CoreTiersPayClient.open(
                ShellConfig(mock.url, dataDir.path, mock.publicKey, "bench"),
                secrets,
                SoftwareDeviceKey(secrets),
            ).use { client ->
                val day = LocalDate.of(2026, 3, 2)
                report(
                    "client.preview()  (adapter: IO hop + mapping)",
                    measure(iterations) { runBlocking { client.preview(camille, gp.id, "G", "30", day, Locale.FRANCE) } },
                )
            }
        } else {
            println("(tierspay-mock not found: enrolled status and coverage not measured)")
            core.close()
        }
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
    println("%-50s %9s %9s %9s %9s".format(name, us(pct(0.10)), us(pct(0.50)), us(pct(0.90)), us(pct(0.99))))
}

private fun dummyServerKey(): String = SoftwareDeviceKey(InMemorySecretStore()).publicKey().joinToString("") { "%02x".format(it) }

/** The quote document of docs/coverage.md: the GP visit the preview rows price (19.00 / 9.00 / 2.00). */
private const val QUOTE = """{"date": "2026-03-02", "price": "30.00",
  "act": {"code": "G", "category": "consultation", "base": "30.00", "base_non_optam": "23.00", "amo_rate": "0.70", "pf": true, "franchise": "0.00"},
  "provider": {"sector": 1, "optam": false, "direct_access": false},
  "beneficiary": {"birth_date": "1985-04-12", "in_parcours": true, "ald": false, "css": false, "pregnant_6m": false,
    "pf_paid_this_year": "0.00", "franchise_paid_this_year": "0.00", "pf_count_today_same_provider": 0},
  "guarantee": {"percent_br": "100", "percent_br_non_optam": "100", "includes_amo": true}}"""
