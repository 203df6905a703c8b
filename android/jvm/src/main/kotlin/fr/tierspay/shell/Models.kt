package fr.tierspay.shell

import java.time.Instant
import java.time.LocalDate

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

enum class ContractStatus { ACTIVE, SUSPENDED, TERMINATED, UNKNOWN }

data class Beneficiary(
    val id: String,
    val firstName: String,
    val lastName: String,
    val birthDate: LocalDate,
    val relationship: Relationship,
)

enum class Relationship { HOLDER, SPOUSE, CHILD, OTHER }

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
}

/** The screen a link or a push message leads to. */
sealed interface Destination {
    data object Home : Destination

    /** Enrollment, with the contract number pre-filled when the link carries one. */
    data class Enroll(val contractNumber: String?) : Destination

    /** A provider's page, from the QR code on their desk (`/p/{code}`). */
    data class Provider(val code: String) : Destination
}
