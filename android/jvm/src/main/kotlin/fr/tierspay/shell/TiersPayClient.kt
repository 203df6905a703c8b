package fr.tierspay.shell

import kotlinx.coroutines.flow.Flow

/**
 * What the screens and their view-state need from the core. [CoreTiersPayClient] is the real
 * one (over the uniffi bindings); tests of view-state use a fake.
 *
 * Every function throws [TiersPayError] and nothing else from the core.
 */
interface TiersPayClient {
    /** Whether this device is enrolled, read locally (no network). */
    suspend fun session(): Session

    /** Sends a one-time code by SMS. [birthDate] is `YYYY-MM-DD`. */
    suspend fun startEnrollment(contractNumber: String, birthDate: String): CodeChallenge

    /** Confirms the code and registers this device; the session is then enrolled. */
    suspend fun confirmEnrollment(enrollmentId: String, code: String): MemberProfile

    /** Fetches member, contract and beneficiaries again. */
    suspend fun refreshProfile(): MemberProfile

    /** Revokes this device when the server is reachable, then wipes local data. Works offline. */
    suspend fun signOut()

    /** Session changes, for as long as the flow is collected. */
    fun sessionEvents(): Flow<SessionChange>

    /** Where an App Link or `tierspay://` URL leads; foreign links throw [TiersPayError.InvalidInput]. */
    fun routeForLink(url: String): Destination

    /** Where a push message's data leads. */
    fun routeForPush(data: Map<String, String>): Destination
}
