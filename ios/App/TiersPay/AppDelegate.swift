import TiersPayKit
import UIKit
import UserNotifications

/// Builds the core at launch and hands push messages to it for routing.
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
        application.registerForRemoteNotifications()
        return true
    }

    func application(_ application: UIApplication, didRegisterForRemoteNotificationsWithDeviceToken deviceToken: Data) {
        // The push token goes to the core once it has a notifications area (not in issue 3).
    }

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
