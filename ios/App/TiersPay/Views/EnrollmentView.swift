import SwiftUI
import TiersPayKit

/// Owns the enrollment model for as long as the screen shows.
struct EnrollmentScreen: View {
    @StateObject private var model: EnrollmentModel

    init(app: AppModel, contractNumber: String?) {
        _model = StateObject(wrappedValue: app.makeEnrollmentModel(contractNumber: contractNumber))
    }

    var body: some View {
        EnrollmentView(model: model)
    }
}

/// Contract and birth date, then the SMS code. Draws EnrollmentViewState; nothing else.
struct EnrollmentView: View {
    @ObservedObject var model: EnrollmentModel
    @State private var birthDate = Calendar.current.date(from: DateComponents(year: 1985, month: 1, day: 1)) ?? .now

    private var state: EnrollmentViewState { model.state }

    var body: some View {
        Form {
            if let banner = state.message(for: .form) {
                Section { Label(banner, systemImage: "exclamationmark.circle").foregroundStyle(.red) }
            }
            switch state.step {
            case .contract:
                contractStep
            case let .code(_, phoneMasked, codeLength):
                codeStep(phoneMasked: phoneMasked, codeLength: codeLength)
            case .enrolled:
                Section { Label("This iPhone is enrolled.", systemImage: "checkmark.seal.fill") }
            }
        }
        .navigationTitle("Enroll this iPhone")
        .disabled(state.isSubmitting)
        .overlay { if state.isSubmitting { ProgressView() } }
    }

    @ViewBuilder private var contractStep: some View {
        Section {
            TextField("Contract number", text: Binding(get: { state.contractNumber }, set: { model.edit(contractNumber: $0) }))
                .textInputAutocapitalization(.characters)
                .autocorrectionDisabled()
            fieldError(.contractNumber)
            DatePicker("Holder's birth date", selection: $birthDate, in: ...Date.now, displayedComponents: .date)
                .onChange(of: birthDate) { model.edit(birthDate: $0) }
            fieldError(.birthDate)
        } footer: {
            Text("We send a code by SMS to the phone on file for this contract.")
        }
        Section {
            Button("Receive a code") { Task { await model.submitContract() } }
                .disabled(!state.canSubmit)
        }
        .onAppear { if state.birthDate.isEmpty { model.edit(birthDate: birthDate) } }
    }

    @ViewBuilder private func codeStep(phoneMasked: String, codeLength: Int) -> some View {
        Section {
            TextField("\(codeLength)-digit code", text: Binding(get: { state.code }, set: { model.edit(code: $0) }))
                .keyboardType(.numberPad)
                .textContentType(.oneTimeCode)
                .font(.title2.monospacedDigit())
            fieldError(.code)
        } header: {
            Text("Code sent to \(phoneMasked)")
        }
        Section {
            Button("Confirm") { Task { await model.submitCode() } }
                .disabled(!state.canSubmit)
            Button("Send a new code") { Task { await model.resendCode() } }
            Button("Change contract", role: .cancel) { model.restart() }
        }
    }

    @ViewBuilder private func fieldError(_ field: EnrollmentViewState.Field) -> some View {
        if let message = state.message(for: field) {
            Text(message).font(.footnote).foregroundStyle(.red)
        }
    }
}
