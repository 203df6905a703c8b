import SwiftUI
import TiersPayKit

/// The member, the contract and who it covers; a visit to price; the card; refresh and sign out.
struct HomeView: View {
    @ObservedObject var app: AppModel
    let profile: Profile
    @State private var confirmSignOut = false

    var body: some View {
        List {
            Section {
                Button {
                    app.startVisit()
                } label: {
                    Label("How much will I pay?", systemImage: "eurosign.circle")
                }
            } footer: {
                Text("At the provider's desk: who pays what, before you pay. Works offline.")
            }
            if app.service is any CardService {
                Section {
                    Button {
                        app.showCard()
                    } label: {
                        Label("My card", systemImage: "creditcard")
                    }
                } footer: {
                    Text("Freeze it, see its number, add it to Apple Wallet.")
                }
            }
            Section("Member") {
                LabeledContent("Name", value: profile.member.displayName)
                LabeledContent("Phone", value: profile.member.phoneMasked)
                LabeledContent("Email", value: profile.member.emailMasked)
            }
            Section("Contract") {
                LabeledContent("Number", value: profile.contract.number)
                LabeledContent("Insurer", value: profile.contract.insurerName)
                LabeledContent("Product", value: profile.contract.productName)
                LabeledContent("Since", value: profile.contract.startDate)
            }
            Section("Covered") {
                ForEach(profile.beneficiaries) { person in
                    LabeledContent("\(person.firstName) \(person.lastName)", value: Self.label(person.relationship))
                }
            }
        }
        .navigationTitle("TiersPay")
        .refreshable { await app.refreshProfile() }
        .toolbar {
            Button("Sign out", role: .destructive) { confirmSignOut = true }
        }
        .confirmationDialog("Sign out of this iPhone?", isPresented: $confirmSignOut, titleVisibility: .visible) {
            Button("Sign out", role: .destructive) { Task { await app.signOut() } }
        }
        // A visit: from the button above, or a provider's desk QR code or link (`/p/{code}`,
        // routed by the core), which preselects that provider.
        .sheet(item: Binding(get: { app.visit }, set: { if $0 == nil { app.dismissVisit() } })) { launch in
            VisitScreen(app: app, launch: launch)
        }
        // The card: from its button, or a push about it (`tierspay://card`, routed by the core).
        .navigationDestination(isPresented: Binding(get: { app.showingCard }, set: { if !$0 { app.dismissCard() } })) {
            if let cards = app.service as? any CardService {
                CardScreen(service: cards, wallet: { app.service.walletFlow(wallet: PassKitWallet(), cardholderName: profile.member.displayName) }) {
                    app.service.sessionEvents()
                }
            }
        }
    }

    static func label(_ relationship: Beneficiary.Relationship) -> String {
        switch relationship {
        case .holder: return "Holder"
        case .spouse: return "Spouse"
        case .child: return "Child"
        case .other: return "Other"
        }
    }
}
