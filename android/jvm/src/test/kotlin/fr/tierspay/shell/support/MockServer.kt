package fr.tierspay.shell.support

import java.io.File
import java.net.URI
import java.net.URLEncoder
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
    private var process: Process,
    private val dir: Path,
    /** Base URL, `http://127.0.0.1:PORT`. */
    val url: String,
    /** The server's public key, hex, for `ShellConfig.serverPublicKey`. */
    val publicKey: String,
) : AutoCloseable {

    companion object {
        const val DEMO_CONTRACT = "TP1000001"
        const val DEMO_BIRTH_DATE = "1985-04-12"

        /** The issuer's test-mode secret key the mock accepts on its issuing test helpers. */
        const val TEST_SECRET_KEY = "sk_test_tierspay"

        private const val LISTENING = "tierspay-mock listening on "
        private const val PUBLIC_KEY = "server public key: "

        fun start(): MockServer {
            val dir = Files.createTempDirectory("tierspay-mock")
            val (process, url, publicKey) = launch(dir, "127.0.0.1:0")
            return MockServer(process, dir, url, publicKey)
        }

        /** Starts the binary on [addr] with its database in [dir]; returns the process, URL and key. */
        private fun launch(dir: Path, addr: String): Triple<Process, String, String> {
            val binary = File(System.getProperty("tierspay.mock") ?: "../../target/debug/tierspay-mock")
            check(binary.canExecute()) {
                "tierspay-mock not found at $binary: run `cargo build -p tierspay-server-mock` from the repo root"
            }
            val log = dir.resolve("mock.log").toFile()
            val process = ProcessBuilder(
                binary.path, "serve",
                "--addr", addr,
                "--db", dir.resolve("mock.db").toString(),
                "--seed", "demo",
            ).redirectError(ProcessBuilder.Redirect.appendTo(log)).start()
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
            return Triple(process, first.removePrefix(LISTENING).trim(), second.removePrefix(PUBLIC_KEY).trim())
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

    /** POSTs [json] to [path] (a test helper such as `/v1/test_helpers/usage`); returns the status. */
    fun post(path: String, json: String): Int {
        val request = HttpRequest.newBuilder(URI.create("$url$path"))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .build()
        return http.send(request, HttpResponse.BodyHandlers.ofString()).statusCode()
    }

    /**
     * POSTs [fields] as a form to [path] with the mock's test secret key, as the card network's
     * test helpers expect (`/v1/test_helpers/issuing/tokens/{id}/activate`); returns the status.
     */
    fun postForm(path: String, fields: Map<String, String>): Int {
        val body = fields.entries.joinToString("&") { (k, v) ->
            "${URLEncoder.encode(k, Charsets.UTF_8)}=${URLEncoder.encode(v, Charsets.UTF_8)}"
        }
        val request = HttpRequest.newBuilder(URI.create("$url$path"))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Authorization", "Bearer $TEST_SECRET_KEY")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build()
        return http.send(request, HttpResponse.BodyHandlers.ofString()).statusCode()
    }

    /** Airplane mode: stops the server, keeping its data (and signing key) for [restart]. */
    fun stop() {
        process.destroy()
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS)
        }
    }

    /** Starts it again on the same port and data, after [stop]. */
    fun restart() {
        check(!process.isAlive) { "the mock is running" }
        val (next, restartedUrl, key) = launch(dir, url.removePrefix("http://"))
        process = next
        check(restartedUrl == url && key == publicKey) { "restarted as $restartedUrl with another key" }
    }

    override fun close() {
        stop()
        dir.toFile().deleteRecursively()
    }
}
