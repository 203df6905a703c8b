plugins {
    // AGP 9 compiles Kotlin itself: no org.jetbrains.kotlin.android plugin.
    alias(libs.plugins.android.application)
    alias(libs.plugins.kotlin.compose)
}

// Push needs the Firebase project's google-services.json beside this file; without it the app
// builds and runs, and push messages simply never arrive.
if (file("google-services.json").exists()) {
    apply(plugin = libs.plugins.google.services.get().pluginId)
}

// Google Pay push provisioning needs Google's TapAndPay SDK, which Google gives approved issuers
// only (it is on no public repository). Put its .aar in app/libs/ to build Google Pay in;
// without it the app builds the same, with no "Add to Google Pay" button.
val tapAndPaySdk = fileTree("libs") { include("play-services-tapandpay*.aar") }
val hasTapAndPay = !tapAndPaySdk.isEmpty

fun quoted(property: String): String =
    "\"" + providers.gradleProperty(property).getOrElse("") + "\""

android {
    namespace = "fr.tierspay.app"
    compileSdk = 36

    defaultConfig {
        applicationId = "fr.tierspay.app"
        minSdk = 26
        targetSdk = 36
        versionCode = 1
        versionName = "0.1.0"

        buildConfigField("String", "SERVER_URL", quoted("tierspay.serverUrl"))
        buildConfigField("String", "SERVER_PUBLIC_KEY", quoted("tierspay.serverPublicKey"))

        // The ABIs scripts/build-android.sh builds the core for (`make android`). JNA ships more;
        // an ABI without libtierspay_core.so must not be installed.
        ndk { abiFilters += listOf("arm64-v8a", "armeabi-v7a", "x86_64") }
    }

    buildFeatures {
        compose = true
        buildConfig = true
    }

    buildTypes {
        release {
            isMinifyEnabled = true
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"), "proguard-rules.pro")
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    // libtierspay_core.so per ABI comes from `make android` into src/main/jniLibs (the default
    // jniLibs folder, not committed).
}

android.sourceSets.getByName("main").java.srcDir(
    if (hasTapAndPay) "src/tapandpay/kotlin" else "src/notapandpay/kotlin",
)

dependencies {
    implementation(project(":shell"))
    if (hasTapAndPay) {
        implementation(tapAndPaySdk)
    }
    // Task.await() for Play services and Firebase (the FCM token at start, TapAndPay).
    implementation(libs.kotlinx.coroutines.play.services)
    // JNA for Android: the aar carries libjnidispatch.so per ABI (the :shell module compiles against the jar).
    implementation("net.java.dev.jna:jna:${libs.versions.jna.get()}@aar")
    implementation(libs.kotlinx.coroutines.android)

    implementation(platform(libs.compose.bom))
    implementation(libs.compose.ui)
    implementation(libs.compose.material3)
    implementation(libs.compose.ui.tooling.preview)
    debugImplementation(libs.compose.ui.tooling)
    implementation(libs.activity.compose)
    implementation(libs.lifecycle.viewmodel.compose)
    implementation(libs.lifecycle.runtime.compose)
    // SavedStateHandle: a pending Google Pay request code outlives the process (MainViewModel).
    implementation(libs.lifecycle.viewmodel.savedstate)

    implementation(platform(libs.firebase.bom))
    implementation(libs.firebase.messaging)

    // Desk QR codes on the visit screen.
    implementation(libs.play.services.code.scanner)
}
