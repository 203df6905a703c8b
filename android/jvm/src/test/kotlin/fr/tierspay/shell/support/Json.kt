package fr.tierspay.shell.support

/**
 * Just enough JSON for reading test-helper answers (the outbox) without a JSON library on the
 * test classpath: objects become maps, arrays lists, numbers Double, plus String, Boolean, null.
 */
object Json {
    fun parse(text: String): Any? = Parser(text).run {
        value().also {
            skipSpace()
            check(at == text.length) { "trailing text at $at" }
        }
    }

    private class Parser(val s: String) {
        var at = 0

        fun skipSpace() {
            while (at < s.length && s[at].isWhitespace()) at++
        }

        fun value(): Any? {
            skipSpace()
            check(at < s.length) { "unexpected end" }
            return when (s[at]) {
                '{' -> obj()
                '[' -> array()
                '"' -> string()
                't' -> literal("true", true)
                'f' -> literal("false", false)
                'n' -> literal("null", null)
                else -> number()
            }
        }

        private fun literal(word: String, v: Any?): Any? {
            check(s.startsWith(word, at)) { "bad literal at $at" }
            at += word.length
            return v
        }

        private fun number(): Double {
            val start = at
            while (at < s.length && (s[at].isDigit() || s[at] in "+-.eE")) at++
            return s.substring(start, at).toDouble()
        }

        private fun obj(): Map<String, Any?> {
            val out = LinkedHashMap<String, Any?>()
            at++ // {
            skipSpace()
            if (s[at] == '}') return out.also { at++ }
            while (true) {
                skipSpace()
                val key = string()
                skipSpace()
                check(s[at++] == ':') { "expected : at ${at - 1}" }
                out[key] = value()
                skipSpace()
                when (s[at++]) {
                    ',' -> continue
                    '}' -> return out
                    else -> error("expected , or } at ${at - 1}")
                }
            }
        }

        private fun array(): List<Any?> {
            val out = mutableListOf<Any?>()
            at++ // [
            skipSpace()
            if (s[at] == ']') return out.also { at++ }
            while (true) {
                out += value()
                skipSpace()
                when (s[at++]) {
                    ',' -> continue
                    ']' -> return out
                    else -> error("expected , or ] at ${at - 1}")
                }
            }
        }

        private fun string(): String {
            check(s[at++] == '"') { "expected a string at ${at - 1}" }
            val out = StringBuilder()
            while (true) {
                when (val c = s[at++]) {
                    '"' -> return out.toString()
                    '\\' -> when (val e = s[at++]) {
                        'n' -> out.append('\n')
                        't' -> out.append('\t')
                        'r' -> out.append('\r')
                        'b' -> out.append('\b')
                        'f' -> out.append('\u000C')
                        'u' -> out.append(s.substring(at, at + 4).toInt(16).toChar()).also { at += 4 }
                        else -> out.append(e) // \" \\ \/
                    }
                    else -> out.append(c)
                }
            }
        }
    }
}
