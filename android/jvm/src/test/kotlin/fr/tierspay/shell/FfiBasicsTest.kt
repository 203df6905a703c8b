package fr.tierspay.shell

import fr.tierspay.shell.platform.InMemorySecretStore
import fr.tierspay.shell.platform.SoftwareDeviceKey
import fr.tierspay.shell.support.expectError
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
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

    private fun ByteArray.toHex() = joinToString("") { "%02x".format(it) }
}
