import SwiftUI
import TiersPayKit

/// Owns the visit model for as long as the sheet shows; opened from home or from a provider's
/// desk QR code or link (`AppRoute.provider`), which preselects that provider.
struct VisitScreen: View {
    @StateObject private var model: VisitModel
    private let close: () -> Void

    init(app: AppModel, launch: AppModel.VisitLaunch) {
        _model = StateObject(wrappedValue: app.makeVisitModel(for: launch))
        close = { app.dismissVisit() }
    }

    var body: some View {
        NavigationStack {
            VisitView(model: model)
                .toolbar {
                    ToolbarItem(placement: .cancellationAction) { Button("Close", action: close) }
                }
        }
        .task { await model.load() }
    }
}

/// Who, where, which act, how much; then who pays what and the server's word on it. Draws
/// VisitViewState; every figure, rule and check is the core's.
struct VisitView: View {
    @ObservedObject var model: VisitModel
    @State private var scanning = false
    @State private var careDate = Date()

    private var state: VisitViewState { model.state }

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
            case .result:
                chosenBeneficiary
                chosenProvider
                chosenAct
                resultStep
            }
        }
        .navigationTitle(state.language == .fr ? "Combien vais-je payer ?" : "How much will I pay?")
        .navigationBarTitleDisplayMode(.inline)
        .toolbar {
            ToolbarItem(placement: .primaryAction) { languageMenu }
        }
        .disabled(state.isLoading || state.isSyncing)
        .overlay { if state.isBusy { ProgressView() } }
        .sheet(isPresented: $scanning) {
            QRScannerSheet { text in
                // The camera's text, as it is: the core decides whether it is a provider code.
                Task { await model.scanned(text) }
            }
        }
    }

    // MARK: Banner and loading

    @ViewBuilder private var banner: some View {
        if let message = state.message(for: .form) {
            Section {
                Label(message, systemImage: "exclamationmark.circle").foregroundStyle(.red)
                if state.needsSync {
                    Button("Download my guarantees") { Task { await model.sync() } }
                }
            }
        }
    }

    @ViewBuilder private var loadingStep: some View {
        Section {
            if state.isLoading || state.isSyncing {
                HStack { ProgressView(); Text("Reading your contract…") }
            } else if !state.needsSync {
                Button("Try again") { Task { await model.load() } }
            }
        }
    }

    private var languageMenu: some View {
        Menu {
            Picker("Language", selection: Binding(get: { state.language }, set: { model.set(language: $0) })) {
                Text("Français").tag(Language.fr)
                Text("English").tag(Language.en)
            }
        } label: {
            Text(state.language.rawValue.uppercased()).font(.footnote.bold())
        }
    }

    // MARK: Who

    @ViewBuilder private var beneficiaryStep: some View {
        Section {
            ForEach(state.beneficiaries) { person in
                Button { model.choose(beneficiary: person) } label: {
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
                summaryRow(person.displayName) { model.changeBeneficiary() }
            }
        }
    }

    // MARK: Where

    @ViewBuilder private var providerStep: some View {
        Section {
            TextField("Name, specialty or city", text: Binding(get: { state.query }, set: { model.edit(query: $0) }))
                .autocorrectionDisabled()
                .submitLabel(.search)
                .onSubmit { Task { await model.search() } }
                // Searches as the member types, a beat after the last key.
                .task(id: state.query) {
                    guard (try? await Task.sleep(nanoseconds: 300_000_000)) != nil else { return }
                    await model.search()
                }
            fieldError(.search)
            Button { scanning = true } label: {
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
                    Button { Task { await model.select(provider) } } label: { providerRow(provider) }
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
                    Button("Change") { model.changeProvider() }.buttonStyle(.borderless)
                }
            }
        }
    }

    private func providerRow(_ provider: Provider) -> some View {
        VStack(alignment: .leading, spacing: 2) {
            Text(provider.name).foregroundStyle(.primary)
            Text("\(provider.specialty) · \(provider.city) · \(state.language == .fr ? "secteur" : "sector") \(provider.sector)\(provider.optam ? " · OPTAM" : "")")
                .font(.caption)
                .foregroundStyle(.secondary)
        }
    }

    // MARK: What

    @ViewBuilder private var actStep: some View {
        Section {
            ForEach(state.acts) { act in
                Button { model.choose(act: act) } label: { actRow(act) }
            }
            fieldError(.act)
        } header: {
            Text("Which act?")
        }
    }

    @ViewBuilder private var chosenAct: some View {
        if let act = state.act {
            Section("Act") {
                summaryRow("\(act.label) (\(act.code))") { model.changeAct() }
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
            Text(state.formatted(act.base)).font(.caption).foregroundStyle(.secondary)
        }
    }

    // MARK: How much

    @ViewBuilder private var amountStep: some View {
        Section {
            HStack {
                TextField("Amount asked", text: Binding(get: { state.price }, set: { model.edit(price: $0) }))
                    .keyboardType(.decimalPad)
                    .font(.title2.monospacedDigit())
                Text("€").font(.title2)
            }
            fieldError(.price)
            DatePicker("Date of the visit", selection: $careDate, displayedComponents: .date)
                .onChange(of: careDate) { model.edit(date: $0) }
            fieldError(.date)
        } header: {
            Text("How much does the provider ask?")
        }
        Section {
            Button(state.language == .fr ? "Combien vais-je payer ?" : "How much will I pay?") {
                Task { await model.price() }
            }
            .disabled(!state.canPrice)
        }
    }

    // MARK: Who pays what

    @ViewBuilder private var resultStep: some View {
        if let preview = state.preview {
            Section {
                ForEach(state.shares, id: \.share) { line in
                    LabeledContent(line.label, value: line.amount)
                        .font(line.share == .member ? .title3.bold() : .body)
                }
            } header: {
                Text("\(state.formatted(preview.price)) · \(preview.actLabel)")
            } footer: {
                Text(preview.guarantee)
            }
            if !state.deductionLines.isEmpty {
                Section(state.language == .fr ? "Déductions" : "Deductions") {
                    ForEach(state.deductionLines, id: \.self) { line in
                        LabeledContent(line.label, value: line.amount)
                    }
                }
            }
            Section(state.language == .fr ? "Pourquoi" : "Why") {
                ForEach(Array(state.explanations.enumerated()), id: \.offset) { _, sentence in
                    Text(sentence).font(.callout)
                }
            }
            checkSection
            Section {
                Button("Change the amount") { model.changeAmount() }
                Button("Another visit") { model.newVisit() }
            }
        }
    }

    @ViewBuilder private var checkSection: some View {
        Section {
            switch state.check {
            case .checking?:
                HStack { ProgressView(); Text("Your insurer is checking these figures…") }
            case .confirmed?:
                Label("Checked by your insurer.", systemImage: "checkmark.seal.fill").foregroundStyle(.green)
            case .changed?:
                Label("Your insurer's figures have changed since this iPhone last synced:", systemImage: "exclamationmark.triangle")
                    .foregroundStyle(.orange)
                ForEach(state.serverShares, id: \.share) { line in
                    LabeledContent(line.label, value: line.amount)
                }
                Button("Update and price again") { Task { await model.syncAndPriceAgain() } }
            case let .unavailable(message, _)?:
                Label("Not checked: \(message) The figures above were computed on this iPhone.", systemImage: "wifi.slash")
                    .foregroundStyle(.secondary)
                Button("Check again") { Task { await model.checkWithServer() } }
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

    @ViewBuilder private func fieldError(_ field: VisitViewState.Field) -> some View {
        if let message = state.message(for: field) {
            Text(message).font(.footnote).foregroundStyle(.red)
        }
    }
}
