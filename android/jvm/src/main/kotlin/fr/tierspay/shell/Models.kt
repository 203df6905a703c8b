package fr.tierspay.shell

import java.math.BigDecimal
import java.time.Instant
import java.time.LocalDate
import java.util.Locale

// The shell's own models: what screens render. Built from the core's records by the adapter
// (CoreMapping.kt), so no screen imports a generated `fr.tierspay.core` type.

/** How the app configures the core. */
data class ShellConfig(
    /** Base URL of the TiersPay server. */
    val serverUrl: String,
    /** A folder private to the app, for the core's SQLite database. */
    val dataDir: String,
    /** The server's pinned public key: hex of the uncompressed P-256 point. */
    val serverPublicKey: String,
    /** A label for this device in the member's device list. */
    val deviceName: String? = null,
    /** The key payment links are signed with, hex of the uncompressed P-256 point; null: the server's key above. */
    val linkPublicKey: String? = null,
    /** The id links signed by [linkPublicKey] carry; null: 1. */
    val linkKeyId: UByte? = null,
)

/** Whether this device is enrolled, known without the network. */
sealed interface Session {
    data object NotEnrolled : Session
    data class Enrolled(val profile: MemberProfile) : Session
}

/** The enrolled member, contract and beneficiaries shown on the home screen. */
data class MemberProfile(
    val deviceId: String,
    val enrolledAt: Instant,
    val member: Member,
    val contract: Contract,
    val beneficiaries: List<Beneficiary>,
)

data class Member(
    val id: String,
    val firstName: String,
    val lastName: String,
    /** Masked by the core, e.g. `+33 6 •• •• •• 78`. */
    val phoneMasked: String,
    val emailMasked: String,
) {
    val displayName: String get() = "$firstName $lastName"
}

data class Contract(
    val id: String,
    val number: String,
    val insurerName: String,
    val productName: String,
    val startDate: LocalDate,
    val status: ContractStatus,
)

/** Whether cover is in force. The core's enum: the core reads the wire's strings, never the shell. */
typealias ContractStatus = fr.tierspay.core.ContractStatus

data class Beneficiary(
    val id: String,
    val firstName: String,
    val lastName: String,
    val birthDate: LocalDate,
    val relationship: Relationship,
)

/** Who a beneficiary is to the holder. The core's enum: the core reads the wire's strings, never the shell. */
typealias Relationship = fr.tierspay.core.Relationship

/** A one-time code was sent by SMS; confirm it with [TiersPayClient.confirmEnrollment]. */
data class CodeChallenge(
    val enrollmentId: String,
    /** Where the code went, masked. */
    val phoneMasked: String,
    val codeLength: Int,
    val expiresAt: Instant,
)

/** Something changed in the session. */
enum class SessionChange {
    /** Enrollment finished on this device. */
    ENROLLED,

    /** Member, contract or beneficiaries changed. */
    PROFILE_UPDATED,

    /** The member signed out on this device. */
    SIGNED_OUT,

    /** The server ended the session (another phone enrolled); local data was wiped. */
    ENDED,

    /** The card's status or wallet tokens changed: read [TiersPayClient.card] again. */
    CARD_UPDATED,
}

/** The screen a link or a push message leads to. */
sealed interface Destination {
    data object Home : Destination

    /** Enrollment, with the contract number pre-filled when the link carries one. */
    data class Enroll(val contractNumber: String?) : Destination

    /** A provider's page, from the QR code on their desk (`/p/{code}`). */
    data class Provider(val code: String) : Destination

    /** The card's screen (`tierspay://card`: pushes say the card was frozen or is active again). */
    data object Card : Destination

    /** A payment link (`/l/…`, `/s/…`), not trusted yet: hand [url] to [fr.tierspay.shell.state.ArrearsModel.openLink]. */
    data class PaymentLink(val url: String) : Destination

    /** An invoice's message thread (a push saying support answered): open a [fr.tierspay.shell.state.ThreadModel] on [invoiceId]. */
    data class InvoiceThread(val invoiceId: String) : Destination
}

/** Which push service gave the app its token. Android's is [FCM]; [APNS] is iOS's. */
enum class PushService {
    /** Apple Push Notification service: the device token, in hex. */
    APNS,

    /** Firebase Cloud Messaging: the registration token of `FirebaseMessagingService.onNewToken`. */
    FCM,
}

// Coverage: what the doctor's-desk screen shows. Amounts are the core's [Amount] (minor units,
// currency and the display strings the core formatted; [display] picks one) or, in a preview,
// the core's [Money] (one display string, in the language the preview was asked in).

/** A beneficiary as the coverage rules see them: who the care is for. */
data class CoveredBeneficiary(
    /** Pass it to [TiersPayClient.preview]. */
    val id: String,
    val firstName: String,
    val lastName: String,
    val birthDate: LocalDate,
    val relationship: Relationship,
    /** A médecin traitant is declared (else the statutory share drops). */
    val inParcours: Boolean,
    /** A long-term condition (ALD). */
    val ald: Boolean,
) {
    val displayName: String get() = "$firstName $lastName"
}

/** An act of the tariff catalogue in force on a date. */
data class Act(
    /** `G`, `CS`, `C`, `OPT-MONTURE`, … */
    val code: String,
    val label: String,
    val category: CareCategory,
    /** Base de remboursement. */
    val base: Amount,
)

/** The care category of an act. The core's enum: the core reads the wire's strings, never the shell. */
typealias CareCategory = fr.tierspay.core.CareCategory

/** A healthcare provider of the directory. */
data class Provider(
    /** `prv_…`: pass it to [TiersPayClient.preview]. */
    val id: String,
    /** The 6-character code on the desk QR code. */
    val code: String,
    val name: String,
    val specialty: String,
    /** Convention sector: 1, 2 or 3. */
    val sector: Int,
    /** Member of OPTAM (controlled fees). */
    val optam: Boolean,
    /** A specialty the member may see without a referral. */
    val directAccess: Boolean,
    val city: String,
    val postcode: String,
)

/** Providers found: recently used ones first, then the directory's best matches. */
data class ProviderSearch(
    val providers: List<Provider>,
    /** The server could not be reached: only providers used recently on this phone were searched. */
    val offline: Boolean,
)

/**
 * Who pays what for one visit, computed on the phone (offline) by the core: the figures, their
 * text in the language asked; why, sentence by sentence, is [TiersPayClient.explain].
 */
data class CoveragePreview(
    /** `pv_…`: commits to the inputs and the figures; the server checks it. */
    val id: String,
    val actLabel: String,
    /** What the provider charges. */
    val price: Money,
    /** Care date. */
    val date: LocalDate,
    /** Statutory insurance (Assurance Maladie) pays. */
    val amo: Money,
    /** The complementary insurer (mutuelle) pays. */
    val amc: Money,
    /** The member pays (reste à charge). */
    val member: Money,
    /** Base de remboursement used. */
    val base: Money,
    /** Statutory rate used: 0.70 for 70 %. */
    val amoRate: BigDecimal,
    /** The guarantee line applied, e.g. `150 % BR incl. SS`. */
    val guarantee: String,
    /** Amounts the member's share includes, or where a cover stopped. */
    val deductions: List<Deduction>,
)

data class Deduction(val kind: DeductionKind, val amount: Money)

/** What a deduction is. The core's enum: the core reads the wire's strings, never the shell. */
typealias DeductionKind = fr.tierspay.core.DeductionKind

/**
 * An amount as the core sent it: minor units, currency, and the strings the core formatted for
 * a French and an English reader. The shell never formats or computes money.
 */
typealias Amount = fr.tierspay.core.Amount

/** The core's display string for [locale]: French for a French reader, English otherwise. */
fun Amount.display(locale: Locale): String = if (locale.language == Locale.FRENCH.language) displayFr else displayEn

/**
 * An amount of a preview as the core sent it: minor units, currency, and the one string the
 * core formatted for the reader the preview was asked for ([Money.display]).
 */
typealias Money = fr.tierspay.core.Money

/** The language the core writes a preview's amounts and explanations in. The core's enum. */
typealias Language = fr.tierspay.core.Language

/** The core's language for a reader in [locale]: French for a French reader, English otherwise. */
fun Locale.coreLanguage(): Language = if (language == Locale.FRENCH.language) Language.FR else Language.EN

/** A sentence to show as it is, in French and in English. */
data class Explanation(val fr: String, val en: String) {
    /** French for a French [locale], English otherwise. */
    fun text(locale: Locale): String = if (locale.language == Locale.FRENCH.language) fr else en
}

/** The server's recomputation of a preview, with its current data and the same code. */
data class PreviewCheck(
    /** The phone's figures still hold. */
    val holds: Boolean,
    val serverPreviewId: String,
    /** The shares now. */
    val amo: Amount,
    val amc: Amount,
    val member: Amount,
)

/** What a coverage sync downloaded. */
data class SyncSummary(
    val contractUpdated: Boolean,
    val tariffsUpdated: Boolean,
    /** Bytes received (an unchanged sync is under 100). */
    val bytes: Long,
)

// Card: the virtual card's public facts. No model holds the full number except [CardDetails],
// which lives only as long as the screen showing it.

/** The virtual card as last synced: never its number. */
data class CardInfo(
    /** Issuer's card id. */
    val id: String,
    val last4: String,
    /** `MM/YY`. */
    val expiry: String,
    /** `visa`, … */
    val brand: String,
    val status: CardStatus,
    /** Frozen by the member: payments are refused and wallet tokens suspended. */
    val frozen: Boolean,
    val applePayEligible: Boolean,
    val googlePayEligible: Boolean,
    /** Where and how much the card can pay, sentence by sentence. */
    val controls: List<Explanation>,
    /** The card's wallet tokens (Apple Pay, Google Pay). */
    val tokens: List<WalletToken>,
)

/** The card's status (INACTIVE is frozen). The core's enum: the core reads the wire's strings, never the shell. */
typealias CardStatus = fr.tierspay.core.CardStatus

/** A wallet token of the card, as the issuer knows it. */
data class WalletToken(
    /** Issuer's token id. */
    val id: String,
    val wallet: Wallet,
    /** The wallet's device, when known. */
    val deviceId: String?,
    /** Last four digits of the device number. */
    val last4: String,
    val status: WalletTokenStatus,
)

/** Which wallet holds a token. The core's enum: the core reads the wire's strings, never the shell. */
typealias Wallet = fr.tierspay.core.Wallet

/** A wallet token's status. The core's enum: the core reads the wire's strings, never the shell. */
typealias WalletTokenStatus = fr.tierspay.core.TokenStatus

/**
 * The full card details, fetched for manual entry: show them once, then drop the object. Never
 * store it, log it or put it in view-state; [toString] shows the last four digits only.
 */
class CardDetails(
    val number: String,
    /** `MM/YY`. */
    val expiry: String,
    val cvc: String,
) {
    override fun toString(): String = "CardDetails(number=•••• ${number.takeLast(4)}, expiry=$expiry, cvc=•••)"
}

/** A token as Google's TapAndPay `listTokens()` returned it. */
data class TapAndPayToken(
    /** `issuerTokenId`. */
    val tokenId: String,
    /** `fpanLastFour`. */
    val fpanLast4: String,
    /** `tokenState`: see [TapAndPayToken.State]. */
    val state: Int,
) {
    /** TapAndPay's `TOKEN_STATE_*` values. */
    object State {
        const val UNTOKENIZED = 1
        const val PENDING = 2
        const val NEEDS_IDENTITY_VERIFICATION = 3
        const val SUSPENDED = 4
        const val ACTIVE = 5
    }
}

/**
 * What TapAndPay's `PushTokenizeRequest` needs, as the issuer prepared it. [opaquePaymentCard]
 * is passed through untouched (encrypted for the token service; [toString] leaves it out).
 */
class PushTokenizeData(
    val opaquePaymentCard: ByteArray,
    /** `TapAndPay.CARD_NETWORK_*` (VISA = 4). */
    val network: Int,
    /** `TapAndPay.TOKEN_PROVIDER_*` (VISA = 4). */
    val tokenServiceProvider: Int,
    val displayName: String,
    val lastDigits: String,
    val address: UserAddress,
) {
    override fun toString(): String =
        "PushTokenizeData(network=$network, tokenServiceProvider=$tokenServiceProvider, displayName=$displayName, " +
            "lastDigits=$lastDigits, opaquePaymentCard=${opaquePaymentCard.size} bytes)"
}

/** `UserAddress` of a push tokenization. */
data class UserAddress(
    val name: String,
    val address1: String,
    val locality: String,
    val postalCode: String,
    val countryCode: String,
    val phoneNumber: String,
)

/** What to do for Google Pay, as the core decided from the wallet's tokens. */
sealed interface GooglePayAction {
    /** Call TapAndPay `pushTokenize` with [data]. */
    class Push(val data: PushTokenizeData) : GooglePayAction {
        override fun toString(): String = "Push($data)"
    }

    /** Call TapAndPay `tokenize(tokenId)`: identity verification is pending. */
    data class Resume(val tokenId: String) : GooglePayAction

    /** The card is already in Google Pay on this device. */
    data object AlreadyAdded : GooglePayAction

    /** Tokenization is under way. */
    data object InProgress : GooglePayAction

    /** The wallet token is suspended: unfreeze the card. */
    data object Suspended : GooglePayAction
}

// Paying at the doctor: the member's own card (public facts only) and the visits the virtual
// card was armed for. Statuses are the core's enums, sentences and amounts' text the core's.

/** The member's own card, as the phone may know it: never its number or code. */
data class MemberCard(
    /** The PSP's `pm_…`. */
    val paymentMethod: String,
    val status: PaymentMethodStatus,
    /** `visa`, `mastercard`… */
    val brand: String,
    val last4: String,
    /** `MM/YY`. */
    val expiry: String,
    /** The bank's challenge page to open when [status] is REQUIRES_ACTION; then [TiersPayClient.refreshMemberCard]. */
    val nextActionUrl: String?,
    /** Stripe's decline code when [status] is FAILED. */
    val declineCode: String?,
    /** What the decline means, when FAILED. */
    val decline: Explanation?,
)

/** Where the member's own card stands. The core's enum: the core reads the wire's strings, never the shell. */
typealias PaymentMethodStatus = fr.tierspay.core.PaymentMethodStatus

/** Where a visit stands. The core's enum: the core reads the wire's strings, never the shell. */
typealias VisitStatus = fr.tierspay.core.VisitStatus

/** One visit the virtual card was armed for. */
data class Visit(
    /** `vis_…` */
    val id: String,
    val status: VisitStatus,
    /** The card still pays it (armed, or tapped and not captured): show the countdown to [expiresAt]. */
    val active: Boolean,
    val beneficiaryId: String,
    val providerId: String,
    val providerName: String,
    val actCode: String,
    /** Care date. */
    val date: LocalDate,
    val price: Amount,
    val amo: Amount,
    val amc: Amount,
    /** The member's share (held on the member's card until capture). */
    val member: Amount,
    val previewId: String,
    val created: Instant,
    /** The card is armed until then (server time): the countdown's end, after which the screen refreshes. */
    val expiresAt: Instant,
    /** Why the last tap for it was declined, if one was. */
    val lastDecline: String?,
    /** "Paid 30,00 € to Dr …: your insurers 28,00 €, you 2,00 €", once paid. */
    val summary: Explanation?,
    /** The settlement figures, once paid. */
    val receipt: VisitReceipt?,
)

/** What the settlement of a paid visit moved. */
data class VisitReceipt(
    val providerPaid: Amount,
    val amo: Amount,
    val amc: Amount,
    /** Taken from the member's own card. */
    val memberCaptured: Amount,
    /** What could not be taken and is owed (zero normally). */
    val arrears: Amount,
    val settledAt: Instant,
)
