import SwiftUI
import TiersPayKit

/// Owns the visit model for as long as the sheet shows; opened from home or from a provider's
/// desk QR code or link (`AppRoute.provider`), which preselects that provider.
struct VisitScreen: View {
    @StateObject private var screen: ScreenFlow<VisitFlowModel>
    private let close: () -> Void

    init(app: AppModel, launch: AppModel.VisitLaunch) {
        _screen = StateObject(wrappedValue: app.makeVisitFlow(for: launch))
        close = { app.dismissVisit() }
    }

    var body: some View {
        NavigationStack {
            Group {
                if let state = screen.state {
                    VisitView(flow: screen.flow, state: state)
                } else {
                    ProgressView()
                }
            }
            .toolbar {
                ToolbarItem(placement: .cancellationAction) { Button("Close", action: close) }
            }
        }
        .task {
            screen.flow.start()
            await screen.follow()
        }
    }
}

/// Who, where, which act, how much; then who pays what and the server's word on it. Draws the
/// core's VisitFlow state (core/src/app/flows/visit.rs) and forwards what the member does: every
/// step, figure, amount's text, rule and check is the core's. Only the language is the screen's.
struct VisitView: View {
    let flow: VisitFlowModel
    let state: VisitFlowSnapshot
    @State private var language = Language.preferred()
    @State private var scanning = false
    @State private var careDate = Date()

    var body: some View {
        Form {
            banner
            switch state.step {
            case .loading:
                loadingStep
            case .beneficiary:
                beneficiaryStep
            case .provider:
                chosenBeneficiary
                providerStep
            case .act:
                chosenBeneficiary
                chosenProvider
                actStep
            case .amount:
                chosenBeneficiary
                chosenProvider
                chosenAct
                amountStep
            case .result, .armed, .finished:
                chosenBeneficiary
                chosenProvider
                chosenAct
                resultStep
            }
        }
        .navigationTitle(language == .fr ? "Combien vais-je payer ?" : "How much will I pay?")
        .navigationBarTitleDisplayMode(.inline)
        .toolbar {
            ToolbarItem(placement: .primaryAction) { languageMenu }
        }
        // The figures' text and the explanations come from the core in the reader's language.
        .onAppear { flow.setLanguage(language) }
        .onChange(of: language) { flow.setLanguage($0) }
        .disabled(state.isLoading || state.isSyncing)
        .overlay { if state.isBusy { ProgressView() } }
        .sheet(isPresented: $scanning) {
            QRScannerSheet { text in
                // The camera's text, as it is: the core decides whether it is a provider code.
                flow.scanned(text)
            }
        }
    }

    // MARK: Banner and loading

    @ViewBuilder private var banner: some View {
        if let message = state.message(for: .form) {
            Section {
                Label(message, systemImage: "exclamationmark.circle").foregroundStyle(.red)
                if state.needsSync {
                    Button("Download my guarantees") { flow.sync() }
                }
            }
        }
    }

    @ViewBuilder private var loadingStep: some View {
        Section {
            if state.isLoading || state.isSyncing {
                HStack {
                    ProgressView(); Text("Reading your contract…")
                }
            } else if !state.needsSync {
                Button("Try again") { flow.sync() }
            }
        }
    }

    private var languageMenu: some View {
        Menu {
            Picker("Language", selection: $language) {
                Text("Français").tag(Language.fr)
                Text("English").tag(Language.en)
            }
        } label: {
            Text(language.rawValue.uppercased()).font(.footnote.bold())
        }
    }

    // MARK: Who

    @ViewBuilder private var beneficiaryStep: some View {
        Section {
            ForEach(state.beneficiaries) { person in
                Button {
                    flow.choose(beneficiaryId: person.id)
                } label: {
                    HStack {
                        VStack(alignment: .leading) {
                            Text(person.displayName).foregroundStyle(.primary)
                            if !person.inParcours {
                                Text("No médecin traitant declared").font(.caption).foregroundStyle(.secondary)
                            }
                        }
                        Spacer()
                        if state.beneficiary == person { Image(systemName: "checkmark") }
                    }
                }
            }
            fieldError(.beneficiary)
        } header: {
            Text("Who is the visit for?")
        }
    }

    @ViewBuilder private var chosenBeneficiary: some View {
        if let person = state.beneficiary {
            Section("For") {
                summaryRow(person.displayName) { flow.changeBeneficiary() }
            }
        }
    }

    // MARK: Where

    @ViewBuilder private var providerStep: some View {
        Section {
            // The core searches as the member types, a beat after the last key.
            TextField("Name, specialty or city", text: Binding(get: { state.query }, set: { flow.edit(query: $0) }))
                .autocorrectionDisabled()
            fieldError(.search)
            Button {
                scanning = true
            } label: {
                Label("Scan the QR code on the desk", systemImage: "qrcode.viewfinder")
            }
            fieldError(.scan)
            fieldError(.provider)
        } header: {
            Text("Which provider?")
        } footer: {
            if state.resultsOffline {
                Text("Offline: only providers used on this iPhone are listed.")
            }
        }
        if !state.results.isEmpty {
            Section(state.query.isEmpty ? "Recently used" : "Results") {
                ForEach(state.results) { provider in
                    Button {
                        flow.select(providerId: provider.id)
                    } label: {
                        providerRow(provider)
                    }
                }
            }
        } else if state.isSearching {
            Section { ProgressView() }
        }
    }

    @ViewBuilder private var chosenProvider: some View {
        if let provider = state.provider {
            Section("At") {
                HStack {
                    providerRow(provider)
                    Button("Change") { flow.changeProvider() }.buttonStyle(.borderless)
                }
            }
        }
    }

    private func providerRow(_ provider: Provider) -> some View {
        VStack(alignment: .leading, spacing: 2) {
            Text(provider.name).foregroundStyle(.primary)
            Text("\(provider.specialty) · \(provider.city) · \(language == .fr ? "secteur" : "sector") \(provider.sector)\(provider.optam ? " · OPTAM" : "")")
                .font(.caption)
                .foregroundStyle(.secondary)
        }
    }

    // MARK: What

    @ViewBuilder private var actStep: some View {
        Section {
            ForEach(state.acts) { act in
                Button {
                    flow.choose(actCode: act.code)
                } label: {
                    actRow(act)
                }
            }
            fieldError(.act)
        } header: {
            Text("Which act?")
        }
    }

    @ViewBuilder private var chosenAct: some View {
        if let act = state.act {
            Section("Act") {
                summaryRow("\(act.label) (\(act.code))") { flow.changeAct() }
            }
        }
    }

    private func actRow(_ act: Act) -> some View {
        HStack {
            VStack(alignment: .leading) {
                Text(act.label).foregroundStyle(.primary)
                Text(act.code).font(.caption.monospaced()).foregroundStyle(.secondary)
            }
            Spacer()
            Text(act.base.text(in: language)).font(.caption).foregroundStyle(.secondary)
        }
    }

    // MARK: How much

    @ViewBuilder private var amountStep: some View {
        Section {
            HStack {
                TextField("Amount asked", text: Binding(get: { state.price }, set: { flow.edit(price: $0) }))
                    .keyboardType(.decimalPad)
                    .font(.title2.monospacedDigit())
                Text("€").font(.title2)
            }
            fieldError(.price)
            DatePicker("Date of the visit", selection: $careDate, displayedComponents: .date)
                .onChange(of: careDate) { flow.edit(date: CalendarDay.iso($0)) }
            fieldError(.date)
        } header: {
            Text("How much does the provider ask?")
        }
        Section {
            Button(language == .fr ? "Combien vais-je payer ?" : "How much will I pay?") { flow.price() }
                .disabled(!state.canPrice)
        }
    }

    // MARK: Who pays what

    @ViewBuilder private var resultStep: some View {
        if let preview = state.preview {
            Section {
                ForEach(shares(amo: preview.amo.display, amc: preview.amc.display, member: preview.member.display), id: \.label) { line in
                    LabeledContent(line.label, value: line.amount)
                        .font(line.isMember ? .title3.bold() : .body)
                }
            } header: {
                Text("\(preview.price.display) · \(preview.actLabel)")
            } footer: {
                Text(preview.guarantee)
            }
            if !preview.deductions.isEmpty {
                Section(language == .fr ? "Déductions" : "Deductions") {
                    ForEach(Array(preview.deductions.enumerated()), id: \.offset) { _, deduction in
                        LabeledContent(deduction.kind.label(in: language), value: deduction.amount.display)
                    }
                }
            }
            Section(language == .fr ? "Pourquoi" : "Why") {
                // Already in the reader's language: the flow asked the core for it.
                ForEach(Array(state.explanations.enumerated()), id: \.offset) { _, sentence in
                    Text(sentence).font(.callout)
                }
            }
            checkSection
            paymentSection
            Section {
                if !state.payment.isLocked {
                    Button("Change the amount") { flow.changeAmount() }
                }
                if state.step != .armed {
                    Button("Another visit") { flow.newVisit() }
                }
            }
        }
    }

    // MARK: Paying with the card

    /// "Pay with my card", then the armed visit with its countdown and cancel, then the receipt.
    /// Every flag, status, amount's text and sentence is the core's.
    @ViewBuilder private var paymentSection: some View {
        let payment = state.payment
        if let stale = payment.stale {
            Section {
                Label("Your insurer's figures have changed:", systemImage: "exclamationmark.triangle").foregroundStyle(.orange)
                ForEach(
                    shares(amo: stale.amo.text(in: language), amc: stale.amc.text(in: language), member: stale.member.text(in: language)),
                    id: \.label
                ) { line in
                    LabeledContent(line.label, value: line.amount)
                }
            }
        }
        if let visit = payment.visit {
            visitSection(visit, canCancel: payment.canCancel, isCanceling: payment.isCanceling)
        } else {
            Section {
                Button(payment.stale == nil ? "Pay with my card" : "Accept and pay") { flow.authorize() }
                    .disabled(!payment.canAuthorize)
                if payment.isAuthorizing {
                    ProgressView()
                }
                fieldError(.paymentMethod)
            }
        }
    }

    @ViewBuilder private func visitSection(_ visit: Visit, canCancel: Bool, isCanceling: Bool) -> some View {
        switch visit.status {
        case .armed, .authorized:
            Section {
                Label("Your card is ready: tap it at \(visit.providerName)'s terminal.", systemImage: "wave.3.right")
                HStack {
                    Text("Valid for")
                    Spacer()
                    Text(timerInterval: Date.now...max(Date.now, visit.expiresAt), countsDown: true).monospacedDigit()
                }
                if canCancel {
                    Button("Cancel this visit", role: .destructive) { flow.cancel() }.disabled(isCanceling)
                }
            }
            // When the countdown ends, the core reads the visit again (expired, or tapped).
            .task(id: visit.expiresAt) {
                let wait = visit.expiresAt.timeIntervalSinceNow
                if wait > 0 { try? await Task.sleep(nanoseconds: UInt64(wait * 1_000_000_000)) }
                if !Task.isCancelled { flow.refresh() }
            }
        case .paid:
            Section {
                if let summary = visit.summary {
                    Label(summary.text(in: language), systemImage: "checkmark.circle.fill").foregroundStyle(.green)
                }
                if let receipt = visit.receipt {
                    LabeledContent(language == .fr ? "Payé au praticien" : "Paid to the provider", value: receipt.providerPaid.text(in: language))
                    ForEach(
                        shares(amo: receipt.amo.text(in: language), amc: receipt.amc.text(in: language), member: receipt.memberCaptured.text(in: language)),
                        id: \.label
                    ) { line in
                        LabeledContent(line.label, value: line.amount)
                    }
                }
            }
        case .canceled, .expired, .reversed:
            Section {
                Label(language == .fr ? "Ce passage n'est plus payé par la carte." : "The card no longer pays this visit.", systemImage: "xmark.circle")
                    .foregroundStyle(.secondary)
            }
        }
    }

    @ViewBuilder private var checkSection: some View {
        Section {
            switch state.check {
            case .checking?:
                HStack {
                    ProgressView(); Text("Your insurer is checking these figures…")
                }
            case .confirmed?:
                Label("Checked by your insurer.", systemImage: "checkmark.seal.fill").foregroundStyle(.green)
            case let .changed(server)?:
                Label("Your insurer's figures have changed since this iPhone last synced:", systemImage: "exclamationmark.triangle")
                    .foregroundStyle(.orange)
                ForEach(
                    shares(amo: server.amo.text(in: language), amc: server.amc.text(in: language), member: server.member.text(in: language)),
                    id: \.label
                ) { line in
                    LabeledContent(line.label, value: line.amount)
                }
                // The core syncs, then prices the visit again.
                Button("Update and price again") { flow.sync() }
            case let .unavailable(message, _)?:
                Label("Not checked: \(message) The figures above were computed on this iPhone.", systemImage: "wifi.slash")
                    .foregroundStyle(.secondary)
                Button("Check again") { flow.recheck() }
            case nil:
                EmptyView()
            }
        }
    }

    // MARK: Helpers

    private func summaryRow(_ text: String, change: @escaping () -> Void) -> some View {
        HStack {
            Text(text)
            Spacer()
            Button("Change", action: change).buttonStyle(.borderless)
        }
    }

    /// The three shares as the core wrote their amounts, with the screen's own labels.
    private func shares(amo: String, amc: String, member: String) -> [ShareLine] {
        let fr = language == .fr
        return [
            ShareLine(label: fr ? "Assurance Maladie" : "Statutory health insurance", amount: amo, isMember: false),
            ShareLine(label: fr ? "Votre complémentaire santé" : "Your complementary insurer", amount: amc, isMember: false),
            ShareLine(label: fr ? "Reste à votre charge" : "You pay", amount: member, isMember: true),
        ]
    }

    private struct ShareLine: Hashable {
        var label: String
        var amount: String
        var isMember: Bool
    }

    @ViewBuilder private func fieldError(_ field: VisitFlowSnapshot.Field) -> some View {
        if let message = state.message(for: field) {
            Text(message).font(.footnote).foregroundStyle(.red)
        }
    }
}
