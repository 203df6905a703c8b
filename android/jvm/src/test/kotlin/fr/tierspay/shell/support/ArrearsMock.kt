package fr.tierspay.shell.support

import fr.tierspay.shell.CoreTiersPayClient
import fr.tierspay.shell.ShellConfig
import fr.tierspay.shell.platform.InMemorySecretStore
import fr.tierspay.shell.platform.SoftwareDeviceKey
import fr.tierspay.shell.support.MockServer.Companion.DEMO_BIRTH_DATE
import fr.tierspay.shell.support.MockServer.Companion.DEMO_CONTRACT
import java.net.URI
import java.net.URLEncoder
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Path
import java.time.Duration

/**
 * The insurer's and the member's browser side of arrears on a real [MockServer]: an invoice made
 * by the insurer's back office, the links a reminder would carry (the mock's test helper), and a
 * link paid by card on the hosted page, as a member does from an email without the app.
 */
class ArrearsMock(private val mock: MockServer) {
    private val http = HttpClient.newBuilder()
        .connectTimeout(Duration.ofSeconds(5))
        .followRedirects(HttpClient.Redirect.NEVER)
        .build()

    /**
     * The demo holder enrolled in [dataDir] through the real core, as the app does it; with
     * [cardNumber], that test card saved as the card the app pays with.
     */
    suspend fun enrolledMember(dataDir: Path, secrets: InMemorySecretStore, cardNumber: String? = null): CoreTiersPayClient {
        val client = CoreTiersPayClient.open(
            ShellConfig(mock.url, dataDir.toString(), mock.publicKey, deviceName = "JVM test"),
            secrets,
            SoftwareDeviceKey(secrets),
        )
        val challenge = client.startEnrollment(DEMO_CONTRACT, DEMO_BIRTH_DATE)
        client.confirmEnrollment(challenge.enrollmentId, mock.lastSmsCode())
        cardNumber?.let { client.saveMemberCard(it, "12/34", "123") }
        return client
    }

    private fun send(request: HttpRequest.Builder): HttpResponse<String> =
        http.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString())

    private fun json(path: String, body: String, bearer: String? = MockServer.TEST_SECRET_KEY): Map<*, *> {
        val request = HttpRequest.newBuilder(URI.create("${mock.url}$path"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
        bearer?.let { request.header("Authorization", "Bearer $it") }
        val answer = send(request)
        check(answer.statusCode() == 200) { "POST $path answered ${answer.statusCode()}: ${answer.body()}" }
        return Json.parse(answer.body()) as Map<*, *>
    }

    private fun form(url: String, fields: Map<String, String>): HttpResponse<String> {
        val body = fields.entries.joinToString("&") { (k, v) ->
            "${URLEncoder.encode(k, Charsets.UTF_8)}=${URLEncoder.encode(v, Charsets.UTF_8)}"
        }
        return send(
            HttpRequest.newBuilder(URI.create(url))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body)),
        )
    }

    /** A premium arrears invoice of [amountMinor] cents for the demo member (`POST /v1/insurer/arrears`); its `in_…`. */
    fun premiumInvoice(amountMinor: Long, description: String): String = json(
        "/v1/insurer/arrears",
        """{"contract":"${MockServer.DEMO_CONTRACT}","amount":$amountMinor,"description":"$description"}""",
    )["invoice"] as String

    /** The link a reminder on [channel] (`email`, `sms`, `push`, `app`) would carry, as the platform writes it. */
    fun link(invoiceId: String, channel: String): String {
        val answer = json("/v1/test_helpers/invoices/$invoiceId/links", """{"channels":["$channel"]}""")
        return ((answer["data"] as List<*>).single() as Map<*, *>)["url"] as String
    }

    /** Support answers on [invoiceId]'s thread, as the console posts it (`POST /v1/test_helpers/invoice_messages`). */
    fun supportAnswers(invoiceId: String, text: String, name: String = "Claire (support)") {
        json(
            "/v1/test_helpers/invoice_messages",
            """{"invoice":"$invoiceId","staff_id":"stf_claire","display_name":"$name","text":"$text"}""",
        )
    }

    /**
     * Pays [link] by card on the hosted page, as a browser would: the page's card button leads
     * to the PSP's own form, which takes the test card. Returns the status of the form's answer.
     */
    fun payOnHostedPage(link: String, cardNumber: String = "4242424242424242"): Int {
        val page = link.replace("https://app.tierspay.fr", mock.url)
        val start = form("$page/card", emptyMap())
        check(start.statusCode() == 303) { "the card button answered ${start.statusCode()}: ${start.body()}" }
        val target = start.headers().firstValue("location").orElseThrow()
        val formUrl = if (target.startsWith("http")) target else "${mock.url}$target"
        val fields = mapOf(
            "card[number]" to cardNumber,
            "card[exp_month]" to "12",
            "card[exp_year]" to "2034",
            "card[cvc]" to "123",
        )
        return form(formUrl, fields).statusCode()
    }
}
