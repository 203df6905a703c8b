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
 *
 * Test helpers (`/v1/test_helpers/…`) are served only to holders of the test secret key, and by
 * newer mocks only when started with `--test-helpers`: every helper call here sends the key, and
 * the flag is passed when the binary knows it.
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

        /** The test-mode secret key the mock asks of every test-helper call. */
        const val TEST_SECRET_KEY = "sk_test_tierspay"

        private const val LISTENING = "tierspay-mock listening on "
        private const val PUBLIC_KEY = "server public key: "

        fun start(): MockServer {
            val dir = Files.createTempDirectory("tierspay-mock")
            val (process, url, publicKey) = launch(dir, "127.0.0.1:0")
            return MockServer(process, dir, url, publicKey)
        }

        private val binary: File by lazy {
            File(System.getProperty("tierspay.mock") ?: "../../target/debug/tierspay-mock").also {
                check(it.canExecute()) {
                    "tierspay-mock not found at $it: run `cargo build -p tierspay-server-mock` from the repo root"
                }
            }
        }

        /** Whether this build of the mock serves test helpers only on request (`serve --test-helpers`). */
        private val testHelpersFlag: Boolean by lazy {
            val help = ProcessBuilder(binary.path, "serve", "--help").redirectErrorStream(true).start()
            val text = help.inputStream.bufferedReader().readText()
            help.waitFor(10, TimeUnit.SECONDS)
            "--test-helpers" in text
        }

        /** Starts the binary on [addr] with its database in [dir]; returns the process, URL and key. */
        private fun launch(dir: Path, addr: String): Triple<Process, String, String> {
            val log = dir.resolve("mock.log").toFile()
            val args = mutableListOf(
                binary.path,
                "serve",
                "--addr",
                addr,
                "--db",
                dir.resolve("mock.db").toString(),
                "--seed",
                "demo",
            )
            if (testHelpersFlag) args += "--test-helpers"
            val process = ProcessBuilder(args).redirectError(ProcessBuilder.Redirect.appendTo(log)).start()
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

    /** A push the platform sent: to whom (the APNs / FCM token), its title and its data payload. */
    data class SentPush(val recipient: String, val title: String?, val data: Map<String, String>)

    private fun helper(path: String): HttpRequest.Builder = HttpRequest.newBuilder(URI.create("$url$path"))
        .timeout(Duration.ofSeconds(10))
        .header("Authorization", "Bearer $TEST_SECRET_KEY")

    private fun getHelper(path: String): String {
        val response = http.send(helper(path).GET().build(), HttpResponse.BodyHandlers.ofString())
        check(response.statusCode() == 200) { "GET $path answered ${response.statusCode()}: ${response.body()}" }
        return response.body()
    }

    /** The one-time code in the last SMS the mock sent. */
    fun lastSmsCode(): String {
        val body = getHelper("/v1/test_helpers/outbox?channel=sms&limit=1")
        return CODE_IN_BODY.find(body)?.groupValues?.get(1) ?: error("no code in the SMS outbox: $body")
    }

    /** The pushes sent to [token], newest first (`GET /v1/test_helpers/outbox?channel=push&recipient=…`). */
    fun pushesTo(token: String): List<SentPush> {
        val body = getHelper("/v1/test_helpers/outbox?channel=push&limit=100&recipient=${URLEncoder.encode(token, Charsets.UTF_8)}")
        val messages = (Json.parse(body) as Map<*, *>)["data"] as List<*>
        return messages.map { message ->
            message as Map<*, *>
            val data = (message["data"] as Map<*, *>?).orEmpty().entries.associate { (k, v) -> k as String to v as String }
            SentPush(message["recipient"] as String, message["subject"] as String?, data)
        }
    }

    /** POSTs [json] to [path] (a test helper such as `/v1/test_helpers/usage`); returns the status. */
    fun post(path: String, json: String): Int {
        val request = helper(path)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .build()
        return http.send(request, HttpResponse.BodyHandlers.ofString()).statusCode()
    }

    /**
     * POSTs [fields] as a form to [path] with the mock's test secret key, as the card network's
     * test helpers expect (`/v1/test_helpers/issuing/tokens/{id}/activate`); returns the status.
     */
    fun postForm(path: String, fields: Map<String, String>): Int = postFormForAnswer(path, fields).first

    /** As [postForm], with the answer's body (`/v1/test_helpers/issuing/authorizations` answers the authorization). */
    fun postFormForAnswer(path: String, fields: Map<String, String>): Pair<Int, String> {
        val body = fields.entries.joinToString("&") { (k, v) ->
            "${URLEncoder.encode(k, Charsets.UTF_8)}=${URLEncoder.encode(v, Charsets.UTF_8)}"
        }
        val request = helper(path)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build()
        val response = http.send(request, HttpResponse.BodyHandlers.ofString())
        return response.statusCode() to response.body()
    }

    /**
     * The terminal at [provider]'s desk taps [card] for [amount] cents, then captures what was
     * approved, as `tierspay tap` does (the mock's merchant ids are NET + the provider's code).
     * Returns the authorization's answer.
     */
    fun tapAndCapture(card: String, amount: Long, providerCode: String, providerName: String, city: String): Map<*, *> {
        val (status, body) = postFormForAnswer(
            "/v1/test_helpers/issuing/authorizations",
            mapOf(
                "card" to card,
                "amount" to amount.toString(),
                "currency" to "eur",
                "merchant_data[network_id]" to "NET$providerCode",
                "merchant_data[category]" to "8011",
                "merchant_data[name]" to providerName.take(22),
                "merchant_data[city]" to city,
                "merchant_data[country]" to "FR",
            ),
        )
        check(status == 200) { "the tap answered $status: $body" }
        val auth = Json.parse(body) as Map<*, *>
        check(auth["approved"] == true) { "the tap was declined: $body" }
        val (captured, answer) = postFormForAnswer("/v1/test_helpers/issuing/authorizations/${auth["id"]}/capture", emptyMap())
        check(captured == 200) { "the capture answered $captured: $answer" }
        return auth
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
