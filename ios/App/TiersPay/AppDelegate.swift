import TiersPayKit
import UIKit
import UserNotifications

/// Builds the core at launch, hands it the APNs device token, and hands it push messages for
/// routing.
final class AppDelegate: NSObject, UIApplicationDelegate, UNUserNotificationCenterDelegate {
    enum Launch {
        case ready(AppModel)
        case failed(String)
    }

    /// Built at launch, before any scene: opening the core is local and fast (no network).
    lazy var launch: Launch = {
        do {
            return .ready(AppModel(service: try Services.makeClient()))
        } catch {
            return .failed(error.localizedDescription)
        }
    }()

    func application(
        _ application: UIApplication,
        didFinishLaunchingWithOptions launchOptions: [UIApplication.LaunchOptionsKey: Any]? = nil
    ) -> Bool {
        _ = launch
        UNUserNotificationCenter.current().delegate = self
        // Alerts need the member's permission; the device token does not. Asking does not block
        // launch, and a refusal still leaves the token registered (the platform may then send
        // silent updates only).
        UNUserNotificationCenter.current().requestAuthorization(options: [.alert, .sound, .badge]) { _, _ in }
        // At every launch: APNs answers with the current token below, which the core registers
        // (sending nothing when the platform has it already).
        application.registerForRemoteNotifications()
        return true
    }

    /// APNs' token for this device: its bytes as hex go to the core (PushToken.apns), which
    /// registers them with the platform, now or right after enrollment.
    func application(_ application: UIApplication, didRegisterForRemoteNotificationsWithDeviceToken deviceToken: Data) {
        guard case let .ready(app) = launch else { return }
        let token = PushToken.apns(deviceToken: deviceToken)
        Task { await app.register(token) }
    }

    /// No token this time (no network, or the simulator without push): the next launch asks again.
    func application(_ application: UIApplication, didFailToRegisterForRemoteNotificationsWithError error: Error) {}

    /// The member tapped a notification: its payload's `link` says where to go.
    nonisolated func userNotificationCenter(
        _ center: UNUserNotificationCenter,
        didReceive response: UNNotificationResponse
    ) async {
        let route = Self.route(for: response.notification.request.content.userInfo)
        await MainActor.run {
            if case let .ready(app) = launch { app.open(route) }
        }
    }

    /// Notifications arriving in the foreground are shown as banners.
    nonisolated func userNotificationCenter(
        _ center: UNUserNotificationCenter,
        willPresent notification: UNNotification
    ) async -> UNNotificationPresentationOptions {
        [.banner, .sound]
    }

    /// The core routes the payload; one it refuses (a foreign link) opens home.
    nonisolated static func route(for userInfo: [AnyHashable: Any]) -> AppRoute {
        (try? Router.route(forPush: userInfo)) ?? .home
    }
}
