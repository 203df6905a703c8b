package fr.tierspay.shell.platform

import java.math.BigInteger
import java.security.AlgorithmParameters
import java.security.KeyFactory
import java.security.interfaces.ECPublicKey
import java.security.spec.ECGenParameterSpec
import java.security.spec.ECParameterSpec
import java.security.spec.ECPoint
import java.security.spec.ECPublicKeySpec

/** P-256 public keys as uncompressed SEC1 points (`04 || X || Y`, 65 bytes), as the core wants them. */
object Sec1 {
    private const val COORDINATE_BYTES = 32
    const val UNCOMPRESSED_SIZE = 1 + 2 * COORDINATE_BYTES

    /** The parameters of P-256 (secp256r1). */
    val P256: ECParameterSpec by lazy {
        AlgorithmParameters.getInstance("EC")
            .apply { init(ECGenParameterSpec("secp256r1")) }
            .getParameterSpec(ECParameterSpec::class.java)
    }

    fun encode(key: ECPublicKey): ByteArray {
        require(key.params.curve.field.fieldSize == 256) { "not a P-256 key" }
        return byteArrayOf(0x04) + key.w.affineX.toFixed() + key.w.affineY.toFixed()
    }

    fun decode(point: ByteArray): ECPublicKey {
        require(point.size == UNCOMPRESSED_SIZE && point[0] == 0x04.toByte()) {
            "not an uncompressed SEC1 point"
        }
        val x = BigInteger(1, point.copyOfRange(1, 1 + COORDINATE_BYTES))
        val y = BigInteger(1, point.copyOfRange(1 + COORDINATE_BYTES, UNCOMPRESSED_SIZE))
        return KeyFactory.getInstance("EC")
            .generatePublic(ECPublicKeySpec(ECPoint(x, y), P256)) as ECPublicKey
    }

    /** Big-endian, left-padded to 32 bytes (BigInteger may add a sign byte or drop leading zeros). */
    private fun BigInteger.toFixed(): ByteArray {
        val raw = toByteArray()
        return when {
            raw.size == COORDINATE_BYTES -> raw
            raw.size > COORDINATE_BYTES -> raw.copyOfRange(raw.size - COORDINATE_BYTES, raw.size)
            else -> ByteArray(COORDINATE_BYTES - raw.size) + raw
        }
    }
}
