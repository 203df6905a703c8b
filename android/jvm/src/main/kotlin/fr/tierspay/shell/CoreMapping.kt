package fr.tierspay.shell

import fr.tierspay.core.CoreException
import fr.tierspay.core.InternalException
import fr.tierspay.core.Route
import fr.tierspay.core.SessionEvent
import fr.tierspay.core.SessionStatus
import java.math.BigDecimal
import java.time.Instant
import java.time.LocalDate
import java.time.format.DateTimeParseException
import kotlin.coroutines.cancellation.CancellationException
import fr.tierspay.core.Act as CoreAct
import fr.tierspay.core.Amount as CoreAmount
import fr.tierspay.core.Beneficiary as CoreBeneficiary
import fr.tierspay.core.CardDetails as CoreCardDetails
import fr.tierspay.core.CardInfo as CoreCardInfo
import fr.tierspay.core.CardToken as CoreCardToken
import fr.tierspay.core.Contract as CoreContract
import fr.tierspay.core.CoveragePreview as CorePreview
import fr.tierspay.core.CoveredBeneficiary as CoreCoveredBeneficiary
import fr.tierspay.core.Deduction as CoreDeduction
import fr.tierspay.core.EnrollmentChallenge as CoreChallenge
import fr.tierspay.core.Explanation as CoreExplanation
import fr.tierspay.core.GooglePayAction as CoreGooglePayAction
import fr.tierspay.core.Member as CoreMember
import fr.tierspay.core.MemberCard as CoreMemberCard
import fr.tierspay.core.Money as CoreMoney
import fr.tierspay.core.PreviewCheck as CorePreviewCheck
import fr.tierspay.core.Profile as CoreProfile
import fr.tierspay.core.Provider as CoreProvider
import fr.tierspay.core.ProviderSearch as CoreProviderSearch
import fr.tierspay.core.PushService as CorePushService
import fr.tierspay.core.PushTokenizeData as CorePushTokenizeData
import fr.tierspay.core.SyncSummary as CoreSyncSummary
import fr.tierspay.core.TapAndPayToken as CoreTapAndPayToken
import fr.tierspay.core.Visit as CoreVisit
import fr.tierspay.core.VisitReceipt as CoreVisitReceipt

// The one place generated types become the shell's own. Nothing here decides anything.

/** Runs [block], turning the core's exceptions into [TiersPayError]. Cancellation passes through. */
internal inline fun <T> mapCoreErrors(block: () -> T): T = try {
    block()
} catch (e: CancellationException) {
    throw e
} catch (e: CoreException) {
    throw e.toShell()
} catch (e: InternalException) {
    // uniffi's own: a panic in the core or a failure to lift a value.
    throw TiersPayError.Internal("The core failed: ${e.message}").also { it.initCause(e) }
} catch (e: DateTimeParseException) {
    throw TiersPayError.Internal("The core returned a malformed date").also { it.initCause(e) }
} catch (e: NumberFormatException) {
    throw TiersPayError.Internal("The core returned a malformed amount").also { it.initCause(e) }
}

internal fun CoreException.toShell(): TiersPayError = when (this) {
    is CoreException.InvalidInput -> TiersPayError.InvalidInput(field, detail)
    is CoreException.Rejected -> TiersPayError.Rejected(code.wire, detail)
    is CoreException.RateLimited ->
        TiersPayError.RateLimited(retryAfterSeconds.coerceAtMost(Long.MAX_VALUE.toULong()).toLong())
    is CoreException.Network -> TiersPayError.Network("Network unavailable: $detail")
    is CoreException.NotEnrolled -> TiersPayError.NotEnrolled()
    is CoreException.NotSynced -> TiersPayError.NotSynced(detail)
    is CoreException.SessionEnded -> TiersPayError.SessionEnded(detail)
    is CoreException.Platform -> TiersPayError.Platform(detail)
    is CoreException.Internal -> TiersPayError.Internal(detail)
}.also { it.initCause(this) }

internal fun SessionStatus.toShell(): Session {
    val profile = profile
    return if (enrolled && profile != null) Session.Enrolled(profile.toShell()) else Session.NotEnrolled
}

internal fun CoreProfile.toShell() = MemberProfile(
    deviceId = deviceId,
    enrolledAt = Instant.ofEpochSecond(enrolledAt),
    member = member.toShell(),
    contract = contract.toShell(),
    beneficiaries = beneficiaries.map { it.toShell() },
)

internal fun CoreMember.toShell() = Member(
    id = id,
    firstName = firstName,
    lastName = lastName,
    phoneMasked = phoneMasked,
    emailMasked = emailMasked,
)

internal fun CoreContract.toShell() = Contract(
    id = id,
    number = number,
    insurerName = insurerName,
    productName = productName,
    startDate = LocalDate.parse(startDate),
    status = status,
)

internal fun CoreBeneficiary.toShell() = Beneficiary(
    id = id,
    firstName = firstName,
    lastName = lastName,
    birthDate = LocalDate.parse(birthDate),
    relationship = relationship,
)

internal fun CoreChallenge.toShell() = CodeChallenge(
    enrollmentId = enrollmentId,
    phoneMasked = phoneMasked,
    codeLength = codeLength.toInt(),
    expiresAt = Instant.ofEpochSecond(expiresAt),
)

internal fun SessionEvent.toShell(): SessionChange = when (this) {
    SessionEvent.ENROLLED -> SessionChange.ENROLLED
    SessionEvent.PROFILE_UPDATED -> SessionChange.PROFILE_UPDATED
    SessionEvent.SIGNED_OUT -> SessionChange.SIGNED_OUT
    SessionEvent.ENDED -> SessionChange.ENDED
    SessionEvent.CARD_UPDATED -> SessionChange.CARD_UPDATED
}

internal fun Route.toShell(): Destination = when (this) {
    is Route.Home -> Destination.Home
    is Route.Enroll -> Destination.Enroll(contractNumber)
    is Route.Provider -> Destination.Provider(code)
    is Route.Card -> Destination.Card
    is Route.PaymentLink -> Destination.PaymentLink(url)
    is Route.InvoiceThread -> Destination.InvoiceThread(invoiceId)
}

internal fun PushService.toCore(): CorePushService = when (this) {
    PushService.APNS -> CorePushService.APNS
    PushService.FCM -> CorePushService.FCM
}

// Coverage

internal fun CoreCoveredBeneficiary.toShell() = CoveredBeneficiary(
    id = id,
    firstName = firstName,
    lastName = lastName,
    birthDate = LocalDate.parse(birthDate),
    relationship = relationship,
    inParcours = inParcours,
    ald = ald,
)

internal fun CoreAct.toShell() = Act(
    code = code,
    label = label,
    category = category,
    base = base.toShell(),
)

internal fun CoreProvider.toShell() = Provider(
    id = id,
    code = code,
    name = name,
    specialty = specialty,
    sector = sector.toInt(),
    optam = optam,
    directAccess = directAccess,
    city = city,
    postcode = postcode,
)

internal fun CoreProviderSearch.toShell() = ProviderSearch(providers.map { it.toShell() }, offline)

internal fun CorePreview.toShell() = CoveragePreview(
    id = id,
    actLabel = actLabel,
    price = price.toShell(),
    date = LocalDate.parse(date),
    amo = amo.toShell(),
    amc = amc.toShell(),
    member = member.toShell(),
    base = base.toShell(),
    amoRate = BigDecimal(amoRate),
    guarantee = guarantee,
    deductions = deductions.map { it.toShell() },
)

internal fun CoreDeduction.toShell() = Deduction(kind, amount.toShell())

/** Minor units of euros; another currency is an answer this shell cannot show. */
internal fun CoreAmount.toShell(): Amount {
    if (currency != "EUR") throw TiersPayError.Internal("The core sent an amount in $currency")
    return this
}

/** A preview's amount: its currency is the core's enum (euros), so there is nothing to check. */
internal fun CoreMoney.toShell(): Money = this

internal fun CoreExplanation.toShell() = Explanation(fr = fr, en = en)

internal fun CorePreviewCheck.toShell() = PreviewCheck(
    holds = holds,
    serverPreviewId = serverPreviewId,
    amo = amo.toShell(),
    amc = amc.toShell(),
    member = member.toShell(),
)

internal fun CoreSyncSummary.toShell() = SyncSummary(
    contractUpdated = contractUpdated,
    tariffsUpdated = tariffsUpdated,
    bytes = bytes.coerceAtMost(Long.MAX_VALUE.toULong()).toLong(),
)

// Card

internal fun CoreCardInfo.toShell() = CardInfo(
    id = id,
    last4 = last4,
    expiry = expiry,
    brand = brand,
    status = status,
    frozen = frozen,
    applePayEligible = applePayEligible,
    googlePayEligible = googlePayEligible,
    controls = controls.map { it.toShell() },
    tokens = tokens.map { it.toShell() },
)

internal fun CoreCardToken.toShell() = WalletToken(
    id = id,
    wallet = wallet,
    deviceId = deviceId,
    last4 = last4,
    status = status,
)

internal fun CoreCardDetails.toShell() = CardDetails(number = number, expiry = expiry, cvc = cvc)

internal fun TapAndPayToken.toCore() = CoreTapAndPayToken(tokenId = tokenId, fpanLast4 = fpanLast4, state = state)

internal fun CorePushTokenizeData.toShell() = PushTokenizeData(
    opaquePaymentCard = opaquePaymentCard,
    network = network,
    tokenServiceProvider = tokenServiceProvider,
    displayName = displayName,
    lastDigits = lastDigits,
    address = UserAddress(
        name = addressName,
        address1 = address1,
        locality = locality,
        postalCode = postalCode,
        countryCode = countryCode,
        phoneNumber = phoneNumber,
    ),
)

internal fun CoreGooglePayAction.toShell(): GooglePayAction = when (this) {
    is CoreGooglePayAction.Push -> GooglePayAction.Push(data.toShell())
    is CoreGooglePayAction.Resume -> GooglePayAction.Resume(tokenId)
    CoreGooglePayAction.AlreadyAdded -> GooglePayAction.AlreadyAdded
    CoreGooglePayAction.InProgress -> GooglePayAction.InProgress
    CoreGooglePayAction.Suspended -> GooglePayAction.Suspended
}

// Paying at the doctor

internal fun CoreMemberCard.toShell() = MemberCard(
    paymentMethod = paymentMethod,
    status = status,
    brand = brand,
    last4 = last4,
    expiry = expiry,
    nextActionUrl = nextActionUrl,
    declineCode = declineCode,
    decline = decline?.toShell(),
)

internal fun CoreVisit.toShell() = Visit(
    id = id,
    status = status,
    active = active,
    beneficiaryId = beneficiaryId,
    providerId = providerId,
    providerName = providerName,
    actCode = actCode,
    date = LocalDate.parse(date),
    price = price.toShell(),
    amo = amo.toShell(),
    amc = amc.toShell(),
    member = member.toShell(),
    previewId = previewId,
    created = Instant.ofEpochSecond(created),
    expiresAt = Instant.ofEpochSecond(expiresAt),
    lastDecline = lastDecline,
    summary = summary?.toShell(),
    receipt = receipt?.toShell(),
)

internal fun CoreVisitReceipt.toShell() = VisitReceipt(
    providerPaid = providerPaid.toShell(),
    amo = amo.toShell(),
    amc = amc.toShell(),
    memberCaptured = memberCaptured.toShell(),
    arrears = arrears.toShell(),
    settledAt = Instant.ofEpochSecond(settledAt),
)

/** The code as the server writes it (`card_inactive`): the core's enum names, in lower case. */
internal val fr.tierspay.core.ErrorCode.wire: String get() = name.lowercase()
