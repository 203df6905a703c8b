package fr.tierspay.app.push

import android.app.Notification
import android.app.NotificationChannel
import android.app.NotificationManager
import android.app.PendingIntent
import android.content.Intent
import com.google.firebase.messaging.FirebaseMessagingService
import com.google.firebase.messaging.RemoteMessage
import fr.tierspay.app.MainActivity
import fr.tierspay.app.R
import fr.tierspay.app.TiersPayApplication
import fr.tierspay.shell.TiersPayError

/**
 * Push messages. The data payload goes to the core (routeForPush) unread: a message whose link
 * the core refuses is dropped; any other becomes a notification that opens the app with the
 * same data, and MainActivity routes it. New FCM tokens go to the core, which registers them with
 * the platform.
 */
class TiersPayMessagingService : FirebaseMessagingService() {

    override fun onMessageReceived(message: RemoteMessage) {
        val client = (application as TiersPayApplication).client.getOrNull() ?: return
        val data = message.data
        try {
            client.routeForPush(data)
        } catch (e: TiersPayError) {
            return
        }
        val title = message.notification?.title ?: data["title"] ?: getString(R.string.app_name)
        val body = message.notification?.body ?: data["body"].orEmpty()
        val open = Intent(this, MainActivity::class.java)
            .putExtra(EXTRA_PUSH, true)
            .apply { data.forEach { (k, v) -> putExtra(k, v) } }
        val pending = PendingIntent.getActivity(
            this,
            message.messageId.hashCode(),
            open,
            PendingIntent.FLAG_UPDATE_CURRENT or PendingIntent.FLAG_IMMUTABLE,
        )
        val notifications = getSystemService(NotificationManager::class.java)
        if (!notifications.areNotificationsEnabled()) return // permission refused or channel off
        notifications.createNotificationChannel(
            NotificationChannel(CHANNEL, getString(R.string.notification_channel), NotificationManager.IMPORTANCE_DEFAULT),
        )
        val notification = Notification.Builder(this, CHANNEL)
            .setSmallIcon(android.R.drawable.stat_notify_more)
            .setContentTitle(title)
            .setContentText(body)
            .setAutoCancel(true)
            .setContentIntent(pending)
            .build()
        notifications.notify(message.messageId.hashCode(), notification)
    }

    /**
     * Firebase gave this app instance a new registration token (first start, restore, data
     * cleared, rotation). The service may stop as soon as this returns, so the request runs in
     * the application's scope, not this service's.
     */
    override fun onNewToken(token: String) {
        (application as TiersPayApplication).registerPushToken(token)
    }

    companion object {
        private const val CHANNEL = "account"
        private const val EXTRA_PUSH = "fr.tierspay.push"

        /**
         * The push data in an intent that opens the app: ours (foreground messages, [EXTRA_PUSH])
         * or the system's (a notification message tapped while the app was in the background,
         * whose data FCM puts in the extras).
         */
        fun pushData(intent: Intent): Map<String, String>? {
            val extras = intent.extras ?: return null
            if (!extras.containsKey(EXTRA_PUSH) && !extras.containsKey("google.message_id")) return null
            return extras.keySet()
                .filterNot { it == EXTRA_PUSH || it.startsWith("google.") || it.startsWith("gcm.") }
                .mapNotNull { key -> extras.getString(key)?.let { key to it } }
                .toMap()
        }
    }
}
