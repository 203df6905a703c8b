import SwiftUI
import TiersPayKit

/// Home or enrollment, as AppModel says; follows session events while shown.
struct RootView: View {
    @ObservedObject var app: AppModel

    var body: some View {
        NavigationStack {
            switch app.screen {
            case .launching:
                ProgressView().onAppear { app.load() }
            case let .enrollment(contractNumber):
                EnrollmentScreen(app: app, contractNumber: contractNumber)
                    .id(contractNumber)  // a link with another contract starts a fresh form
            case let .home(profile):
                HomeView(app: app, profile: profile)
            }
        }
        .task { await app.observeSession() }
        .alert(
            "TiersPay",
            isPresented: Binding(get: { app.alert != nil }, set: { if !$0 { app.dismissAlert() } }),
            presenting: app.alert
        ) { _ in
            Button("OK", role: .cancel) { app.dismissAlert() }
        } message: { error in
            Text(error.message)
        }
    }
}

struct LaunchFailedView: View {
    let message: String

    var body: some View {
        VStack(spacing: 12) {
            Image(systemName: "exclamationmark.triangle").font(.largeTitle)
            Text("TiersPay could not start").font(.headline)
            Text(message).font(.footnote).multilineTextAlignment(.center)
        }
        .padding()
    }
}
