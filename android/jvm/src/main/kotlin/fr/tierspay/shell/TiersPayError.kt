package fr.tierspay.shell

/**
 * The shell's error: what the adapter throws in place of the generated `CoreException`.
 * [kind] says what the UI should do; [message] can be shown as it is (the core puts no personal
 * data in it).
 */
sealed class TiersPayError(val kind: Kind, message: String) : Exception(message) {

    override val message: String get() = super.message.orEmpty()

    enum class Kind {
        INVALID_INPUT,
        REJECTED,
        RATE_LIMITED,
        NETWORK,
        NOT_ENROLLED,
        NOT_SYNCED,
        SESSION_ENDED,
        PLATFORM,
        INTERNAL,
    }

    /** The member typed something invalid; [field] names it (see [Fields]). */
    class InvalidInput(val field: String, message: String) : TiersPayError(Kind.INVALID_INPUT, message)

    /** The server refused; [code] is stable (`code_incorrect`, see [Codes]). */
    class Rejected(val code: String, message: String) : TiersPayError(Kind.REJECTED, message)

    /** Too many attempts: wait [retryAfterSeconds] before trying again. */
    class RateLimited(val retryAfterSeconds: Long) :
        TiersPayError(Kind.RATE_LIMITED, "Too many attempts. Try again in ${waitText(retryAfterSeconds)}.")

    /** The server could not be reached; nothing was lost. */
    class Network(message: String) : TiersPayError(Kind.NETWORK, message)

    /** This needs an enrolled device. */
    class NotEnrolled : TiersPayError(Kind.NOT_ENROLLED, "This device is not enrolled.")

    /** The guarantees were never downloaded to this phone: sync once online. */
    class NotSynced(message: String) : TiersPayError(Kind.NOT_SYNCED, message)

    /** The server ended this device's session; local data was wiped. */
    class SessionEnded(message: String) : TiersPayError(Kind.SESSION_ENDED, message)

    /** Secure storage or the device key failed. */
    class Platform(message: String) : TiersPayError(Kind.PLATFORM, message)

    /** A bug, or a server answer that cannot be trusted. */
    class Internal(message: String) : TiersPayError(Kind.INTERNAL, message)

    override fun toString(): String = "TiersPayError.$kind: $message"

    /** Field names the core puts in [InvalidInput.field]. */
    object Fields {
        const val CONTRACT_NUMBER = "contract_number"
        const val BIRTH_DATE = "birth_date"
        const val CODE = "code"
        const val URL = "url"

        // Coverage
        const val PRICE = "price"
        const val ACT_CODE = "act_code"
        const val PROVIDER_ID = "provider_id"
        const val BENEFICIARY_ID = "beneficiary_id"
        const val DATE = "date"

        /** A scanned QR code that is not a TiersPay provider's. */
        const val SCAN = "scan"

        /** Text that is neither a provider id nor a provider code. */
        const val PROVIDER = "provider"

        /** A provider search too long. */
        const val QUERY = "query"

        // Card: what TapAndPay returned was empty or too long.
        const val WALLET_ACCOUNT_ID = "wallet_account_id"
        const val DEVICE_ID = "device_id"
    }

    /** Codes the shell acts on in [Rejected.code]: the core's `ErrorCode` names in lower case. */
    object Codes {
        const val ENROLLMENT_NOT_MATCHED = "enrollment_not_matched"
        const val CODE_INCORRECT = "code_incorrect"
        const val CODE_EXPIRED = "code_expired"
        const val TOO_MANY_ATTEMPTS = "too_many_attempts"

        /** The card is frozen: unfreeze it first. */
        const val CARD_INACTIVE = "card_inactive"
        const val TOKEN_ALREADY_ACTIVE = "token_already_active"
        const val TOKEN_NEEDS_IDENTITY_VERIFICATION = "token_needs_identity_verification"
    }
}

private fun waitText(seconds: Long): String = when {
    seconds < 90 -> "$seconds s"
    else -> "${(seconds + 59) / 60} min"
}
