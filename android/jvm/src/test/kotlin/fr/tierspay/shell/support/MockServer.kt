package fr.tierspay.shell.support

import java.io.File
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.nio.file.Path
import java.time.Duration
import java.util.concurrent.TimeUnit

/**
 * A real `tierspay-mock` on a free loopback port with the demo seed, in its own temporary folder.
 * The binary comes from the `tierspay.mock` system property (pom.xml sets it).
 */
class MockServer private constructor(
    private val process: Process,
    private val dir: Path,
    /** Base URL, `http://127.0.0.1:PORT`. */
    val url: String,
    /** The server's public key, hex, for `ShellConfig.serverPublicKey`. */
    val publicKey: String,
) : AutoCloseable {

    companion object {
        const val DEMO_CONTRACT = "TP1000001"
        const val DEMO_BIRTH_DATE = "1985-04-12"

        private const val LISTENING = "tierspay-mock listening on "
        private const val PUBLIC_KEY = "server public key: "

        fun start(): MockServer {
            val binary = File(System.getProperty("tierspay.mock") ?: "../../target/debug/tierspay-mock")
            check(binary.canExecute()) {
                "tierspay-mock not found at $binary: run `cargo build -p tierspay-server-mock` from the repo root"
            }
            val dir = Files.createTempDirectory("tierspay-mock")
            val log = dir.resolve("mock.log").toFile()
            val process = ProcessBuilder(
                binary.path, "serve",
                "--addr", "127.0.0.1:0",
                "--db", dir.resolve("mock.db").toString(),
                "--seed", "demo",
            ).redirectError(log).start()
            val out = process.inputStream.bufferedReader()
            val first = out.readLine()
            val second = out.readLine()
            if (first == null || second == null || !first.startsWith(LISTENING) || !second.startsWith(PUBLIC_KEY)) {
                process.destroyForcibly()
                error("tierspay-mock did not start: stdout=[$first, $second], log:\n${log.readText()}")
            }
            // Keep draining stdout so the mock can never block on a full pipe.
            Thread({ out.useLines { lines -> lines.forEach { } } }, "tierspay-mock-stdout")
                .apply { isDaemon = true }
                .start()
            return MockServer(
                process, dir,
                url = first.removePrefix(LISTENING).trim(),
                publicKey = second.removePrefix(PUBLIC_KEY).trim(),
            )
        }

        private val http: HttpClient = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()
        private val CODE_IN_BODY = Regex(""""body"\s*:\s*"[^"]*?\b(\d{6})\b""")
    }

    /** The one-time code in the last SMS the mock sent. */
    fun lastSmsCode(): String {
        val request = HttpRequest.newBuilder(URI.create("$url/v1/test_helpers/outbox?channel=sms&limit=1"))
            .timeout(Duration.ofSeconds(10))
            .GET()
            .build()
        val response = http.send(request, HttpResponse.BodyHandlers.ofString())
        check(response.statusCode() == 200) { "outbox answered ${response.statusCode()}: ${response.body()}" }
        return CODE_IN_BODY.find(response.body())?.groupValues?.get(1)
            ?: error("no code in the SMS outbox: ${response.body()}")
    }

    override fun close() {
        process.destroy()
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS)
        }
        dir.toFile().deleteRecursively()
    }
}
