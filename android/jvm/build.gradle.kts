// :shell — the same sources Maven builds and tests here (pom.xml), as a Kotlin/JVM library for the
// Android app: adapter over the uniffi bindings, platform-service interfaces, view-state.
import org.jetbrains.kotlin.gradle.dsl.JvmTarget

plugins {
    alias(libs.plugins.kotlin.jvm)
}

// The generated bindings: `make android` copies them to app/build/generated/uniffi; a plain
// `make bindings` leaves them in ../target/bindings/kotlin. Never committed.
val uniffiBindings: File = listOf(
    rootDir.resolve("app/build/generated/uniffi"),
    rootDir.resolve("../target/bindings/kotlin"),
).firstOrNull { it.resolve("fr/tierspay/core").isDirectory }
    ?: throw GradleException("No uniffi bindings: run `make android` (or `make bindings`) from the repo root first")

kotlin {
    sourceSets.named("main") { kotlin.srcDir(uniffiBindings) }
    compilerOptions { jvmTarget.set(JvmTarget.JVM_17) }
}

java {
    sourceCompatibility = JavaVersion.VERSION_17
    targetCompatibility = JavaVersion.VERSION_17
}

dependencies {
    // The client's API exposes Flow; the generated code needs coroutines for async calls.
    api(libs.kotlinx.coroutines.core)
    // Compile only: the app brings JNA as the aar (with its per-ABI dispatch library), tests as the jar.
    compileOnly(libs.jna)

    testImplementation(libs.jna)
    testImplementation(libs.kotlinx.coroutines.test)
    testImplementation(platform(libs.junit.bom))
    testImplementation(libs.junit.jupiter)
    testRuntimeOnly(libs.junit.platform.launcher)
}

tasks.test {
    useJUnitPlatform()
    // Host build of the core and the mock, as for `make test-kotlin`.
    systemProperty("jna.library.path", rootDir.resolve("../target/debug").path)
    systemProperty("tierspay.mock", rootDir.resolve("../target/debug/tierspay-mock").path)
}
