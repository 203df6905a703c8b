import SwiftUI
import TiersPayKit

/// The app: builds the core once, then shows the root view. Links of both kinds arrive here.
@main
struct TiersPayApp: App {
    @UIApplicationDelegateAdaptor(AppDelegate.self) private var delegate

    var body: some Scene {
        WindowGroup {
            switch delegate.launch {
            case let .ready(app):
                RootView(app: app)
                    // `tierspay://…` and universal links (https://app.tierspay.fr/…) alike;
                    // the core decides where they lead and refuses foreign ones.
                    .onOpenURL { app.open(link: $0) }
            case let .failed(message):
                LaunchFailedView(message: message)
            }
        }
    }
}
