import SwiftUI
import TiersPayKit

/// Owns the enrollment flow for as long as the screen shows.
struct EnrollmentScreen: View {
    @StateObject private var screen: ScreenFlow<EnrollmentFlowModel>

    init(app: AppModel, contractNumber: String?) {
        _screen = StateObject(wrappedValue: app.makeEnrollmentFlow(contractNumber: contractNumber))
    }

    var body: some View {
        EnrollmentView(screen: screen)
            .task { await screen.follow() }
    }
}

/// Contract and birth date, then the SMS code. Draws the core's EnrollmentFlow state
/// (core/src/app/flows/enrollment.rs) and forwards what the member does; nothing else.
struct EnrollmentView: View {
    @ObservedObject var screen: ScreenFlow<EnrollmentFlowModel>
    @State private var birthDate = Calendar.current.date(from: DateComponents(year: 1985, month: 1, day: 1)) ?? .now

    private var flow: EnrollmentFlowModel { screen.flow }

    var body: some View {
        if let state = screen.state {
            form(state)
        } else {
            ProgressView()
        }
    }

    private func form(_ state: EnrollmentFlowSnapshot) -> some View {
        Form {
            if let banner = state.message(for: .form) {
                Section { Label(banner, systemImage: "exclamationmark.circle").foregroundStyle(.red) }
            }
            switch state.step {
            case .details:
                detailsStep(state)
            case .code:
                codeStep(state)
            case .enrolled:
                Section { Label("This iPhone is enrolled.", systemImage: "checkmark.seal.fill") }
            }
        }
        .navigationTitle("Enroll this iPhone")
        .disabled(state.isBusy)
        .overlay { if state.isBusy { ProgressView() } }
    }

    @ViewBuilder private func detailsStep(_ state: EnrollmentFlowSnapshot) -> some View {
        Section {
            TextField(
                "Contract number",
                text: Binding(get: { state.contractNumber }, set: { flow.edit(contractNumber: $0) })
            )
            .textInputAutocapitalization(.characters)
            .autocorrectionDisabled()
            fieldError(.contractNumber, state)
            DatePicker("Holder's birth date", selection: $birthDate, in: ...Date.now, displayedComponents: .date)
                .onChange(of: birthDate) { flow.edit(birthDate: CalendarDay.iso($0)) }
            fieldError(.birthDate, state)
        } footer: {
            Text("We send a code by SMS to the phone on file for this contract.")
        }
        Section {
            Button("Receive a code") { flow.submit() }
                .disabled(!state.canSubmit)
        }
        .onAppear { if state.birthDate.isEmpty { flow.edit(birthDate: CalendarDay.iso(birthDate)) } }
    }

    @ViewBuilder private func codeStep(_ state: EnrollmentFlowSnapshot) -> some View {
        let codeLength = state.challenge?.codeLength ?? 6
        Section {
            TextField("\(codeLength)-digit code", text: Binding(get: { state.code }, set: { flow.edit(code: $0) }))
                .keyboardType(.numberPad)
                .textContentType(.oneTimeCode)
                .font(.title2.monospacedDigit())
            fieldError(.code, state)
        } header: {
            Text("Code sent to \(state.challenge?.phoneMasked ?? "your phone")")
        }
        Section {
            Button("Confirm") { flow.submit() }
                .disabled(!state.canSubmit)
            Button("Send a new code") { flow.resendCode() }
            Button("Change contract", role: .cancel) { flow.back() }
        }
    }

    @ViewBuilder private func fieldError(_ field: EnrollmentFlowSnapshot.Field, _ state: EnrollmentFlowSnapshot) -> some View {
        if let message = state.message(for: field) {
            Text(message).font(.footnote).foregroundStyle(.red)
        }
    }
}
