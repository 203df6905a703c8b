package fr.tierspay.app.scan

import android.content.Context
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberUpdatedState
import androidx.compose.ui.platform.LocalContext
import com.google.mlkit.vision.barcode.common.Barcode
import com.google.mlkit.vision.codescanner.GmsBarcodeScanner
import com.google.mlkit.vision.codescanner.GmsBarcodeScannerOptions
import com.google.mlkit.vision.codescanner.GmsBarcodeScanning

/**
 * The desk QR code, read by Google's code scanner: Play services shows its own camera screen
 * (so the app needs no CAMERA permission) and hands back the text. The text goes to the core
 * unread: it alone decides whether it is a TiersPay provider code.
 */
class QrScanner(context: Context) {
    private val scanner: GmsBarcodeScanner = GmsBarcodeScanning.getClient(
        context,
        GmsBarcodeScannerOptions.Builder().setBarcodeFormats(Barcode.FORMAT_QR_CODE).build(),
    )

    /** [onText] with what was read; nothing when the member cancels; [onFailure] when no scanner is available. */
    fun scan(onText: (String) -> Unit, onFailure: (Exception) -> Unit) {
        scanner.startScan()
            .addOnSuccessListener { barcode -> barcode.rawValue?.let(onText) }
            .addOnFailureListener(onFailure)
    }
}

/** A scan action for a composable: call it from a button. */
@Composable
fun rememberQrScan(onText: (String) -> Unit, onFailure: (Exception) -> Unit): () -> Unit {
    val context = LocalContext.current
    val scanner = remember(context) { QrScanner(context) }
    val text by rememberUpdatedState(onText)
    val failure by rememberUpdatedState(onFailure)
    return remember(scanner) { { scanner.scan({ text(it) }, { failure(it) }) } }
}
