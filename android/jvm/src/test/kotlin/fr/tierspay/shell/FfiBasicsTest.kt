package fr.tierspay.shell

import fr.tierspay.shell.platform.InMemorySecretStore
import fr.tierspay.shell.platform.SoftwareDeviceKey
import fr.tierspay.shell.support.expectError
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import java.io.File
import java.nio.file.Files

/** Link and push routing and the version, across the real FFI; no server needed. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FfiBasicsTest {
    private lateinit var client: CoreTiersPayClient
    private val dataDir = Files.createTempDirectory("tierspay-ffi").toFile()

    @BeforeAll
    fun open() {
        val serverKey = SoftwareDeviceKey(InMemorySecretStore()).publicKey()
        client = CoreTiersPayClient.open(
            ShellConfig("http://127.0.0.1:9", dataDir.path, serverKey.toHex()),
            InMemorySecretStore(),
            SoftwareDeviceKey(InMemorySecretStore()),
        )
    }

    @AfterAll
    fun close() {
        client.close()
        dataDir.deleteRecursively()
    }

    @Test
    fun `our links route, with the contract number normalised`() {
        assertEquals(Destination.Enroll("TP1000001"), client.routeForLink("https://app.tierspay.fr/enroll?contract=tp-1000001"))
        assertEquals(Destination.Enroll(null), client.routeForLink("tierspay://enroll"))
        assertEquals(Destination.Home, client.routeForLink("tierspay://home"))
        assertEquals(Destination.Home, client.routeForLink("https://app.tierspay.fr/"))
        assertEquals(Destination.Provider("K7M2QX"), client.routeForLink("https://app.tierspay.fr/p/k7m2qx"))
    }

    @Test
    fun `foreign links are refused as InvalidInput url`() = runBlocking {
        for (url in listOf(
            "https://evil.example/enroll?contract=TP1000001",
            "https://app.tierspay.fr.evil.example/",
            "http://app.tierspay.fr/",
            "tierspay://admin",
        )) {
            val e = expectError<TiersPayError.InvalidInput> { client.routeForLink(url) }
            assertEquals(TiersPayError.Fields.URL, e.field, url)
        }
    }

    @Test
    fun `push data routes through its link`() = runBlocking {
        assertEquals(Destination.Home, client.routeForPush(emptyMap()))
        assertEquals(Destination.Enroll("TP1000001"), client.routeForPush(mapOf("link" to "tierspay://enroll?contract=TP1000001")))
        expectError<TiersPayError.InvalidInput> { client.routeForPush(mapOf("link" to "https://evil.example/")) }
        Unit
    }

    @Test
    fun `a bad server key is InvalidInput`() = runBlocking {
        val e = expectError<TiersPayError.InvalidInput> {
            CoreTiersPayClient.open(
                ShellConfig("http://127.0.0.1:9", dataDir.path, "00"),
                InMemorySecretStore(),
                SoftwareDeviceKey(InMemorySecretStore()),
            ).close()
        }
        assertEquals("server_public_key", e.field)
    }

    @Test
    fun `the library is the core crate's version`() {
        val cargo = File(System.getProperty("user.dir"), "../../core/Cargo.toml").readText()
        val expected = Regex("""(?m)^version\s*=\s*"([^"]+)"""").find(cargo)!!.groupValues[1]
        assertEquals(expected, CoreTiersPayClient.version())
    }

    @Test
    fun `a quote document is answered with the published figures, a malformed one names the field`() = runBlocking {
        val answer = client.quoteDocument(QUOTE)
        fun text(name: String) = Regex(""""$name"\s*:\s*"([^"]*)"""").find(answer)?.groupValues?.get(1)
        assertEquals(listOf("19.00", "9.00", "2.00", "30.00", "0.70"), listOf("amo", "amc", "member", "base", "amo_rate").map(::text))
        assertEquals("participation_forfaitaire", text("kind"))
        assertEquals("100 % BR incl. SS", text("guarantee_applied"))

        for ((document, field) in listOf(
            QUOTE.replace("\"0.70\"", "\"1.70\"") to "act.amo_rate",
            QUOTE.replace("\"30.00\", \"act\"", "30, \"act\"") to "price",
            QUOTE.replace("\"sector\": 1", "\"sector\": 4") to "provider.sector",
            QUOTE.replace("\"pf\": true", "\"pf\": true, \"colour\": \"red\"") to "act.colour",
            "{\"date\": " to "document",
        )) {
            val e = expectError<TiersPayError.InvalidInput> { client.quoteDocument(document) }
            assertEquals(field, e.field, document)
            assertTrue(e.message.isNotBlank())
        }
    }

    @Test
    fun `guarantees never synced are NotSynced, and syncing needs an enrollment`() = runBlocking {
        for (call in listOf<suspend () -> Unit>({ client.coveredBeneficiaries() }, { client.acts() })) {
            val e = expectError<TiersPayError.NotSynced>(call)
            assertEquals(TiersPayError.Kind.NOT_SYNCED, e.kind)
            assertTrue(e.message.contains("connect"), e.message)
        }
        expectError<TiersPayError.NotEnrolled> { client.syncCoverage() }
        Unit
    }

    private fun ByteArray.toHex() = joinToString("") { "%02x".format(it) }
}

/** The quote document of docs/coverage.md: a GP visit, sector 1, adult in parcours, 100 % BR. */
private const val QUOTE = """{
  "date": "2026-03-02", "price": "30.00", "act": {"code": "G", "category": "consultation", "base": "30.00",
    "base_non_optam": "23.00", "amo_rate": "0.70", "pf": true, "franchise": "0.00"},
  "provider": {"sector": 1, "optam": false, "direct_access": false},
  "beneficiary": {"birth_date": "1985-04-12", "in_parcours": true, "ald": false, "css": false, "pregnant_6m": false,
    "pf_paid_this_year": "0.00", "franchise_paid_this_year": "0.00", "pf_count_today_same_provider": 0},
  "guarantee": {"percent_br": "100", "percent_br_non_optam": "100", "includes_amo": true}
}"""
