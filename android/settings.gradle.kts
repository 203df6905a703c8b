// The Android app (:app) and the platform-neutral Kotlin shell (:shell), whose sources live in
// jvm/ (also a Maven project, tested on the JVM by `make test-kotlin`).
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "TiersPay"

include(":app", ":shell")
project(":shell").projectDir = file("jvm")
