package org.mllpserver.hl7;

import org.junit.jupiter.api.Test;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** HL7 table 0211 and the common Java/IANA spellings. */
class CharsetsTest {

    @Test
    void mapsEveryTable0211Name() {
        Map<String, String> expected = Map.ofEntries(
                Map.entry("ASCII", "US-ASCII"), Map.entry("8859/1", "ISO-8859-1"), Map.entry("8859/2", "ISO-8859-2"),
                Map.entry("8859/3", "ISO-8859-3"), Map.entry("8859/4", "ISO-8859-4"), Map.entry("8859/5", "ISO-8859-5"),
                Map.entry("8859/6", "ISO-8859-6"), Map.entry("8859/7", "ISO-8859-7"), Map.entry("8859/8", "ISO-8859-8"),
                Map.entry("8859/9", "ISO-8859-9"), Map.entry("8859/15", "ISO-8859-15"), Map.entry("UNICODE UTF-8", "UTF-8"),
                Map.entry("UNICODE", "UTF-8"), Map.entry("ISO IR6", "US-ASCII"), Map.entry("ISO IR14", "JIS_X0201"),
                Map.entry("ISO IR87", "ISO-2022-JP"), Map.entry("ISO IR159", "ISO-2022-JP-2"), Map.entry("GB 18030-2000", "GB18030"),
                Map.entry("KS X 1001", "EUC-KR"), Map.entry("CNS 11643-1992", "x-EUC-TW"), Map.entry("BIG-5", "Big5"));
        expected.forEach((hl7, java) -> {
            Charsets.Known known = assertInstanceOf(Charsets.Known.class, Charsets.lookup(hl7), hl7);
            assertEquals(Charset.forName(java), known.charset(), hl7);
        });
        assertInstanceOf(Charsets.Known.class, Charsets.lookup(" unicode utf-8 "), "case and spaces do not matter");
    }

    @Test
    void acceptsJavaAndIanaSpellings() {
        assertEquals(StandardCharsets.UTF_8, ((Charsets.Known) Charsets.lookup("UTF-8")).charset());
        assertEquals(StandardCharsets.UTF_8, ((Charsets.Known) Charsets.lookup("utf8")).charset());
        assertEquals(StandardCharsets.ISO_8859_1, ((Charsets.Known) Charsets.lookup("ISO-8859-1")).charset());
        assertEquals(Charset.forName("windows-1252"), ((Charsets.Known) Charsets.lookup("cp1252")).charset());
    }

    @Test
    void refusesWideCharsetsAndUnknownNames() {
        for (String wide : new String[]{"UNICODE UTF-16", "UNICODE UTF-32", "UTF-16", "UTF-16LE", "UTF-32"}) {
            assertInstanceOf(Charsets.NotMllpSafe.class, Charsets.lookup(wide), wide);
        }
        for (String unknown : new String[]{"8859", "wrong", "code1", "ISO IR 87", "", "x-JISAutoDetect", "ISO-2022-CN"}) {
            assertInstanceOf(Charsets.Unknown.class, Charsets.lookup(unknown), unknown);
        }
    }

    @Test
    void namesCharsetsForMsh18() {
        assertEquals("UNICODE UTF-8", Charsets.hl7Name(StandardCharsets.UTF_8));
        assertEquals("ASCII", Charsets.hl7Name(StandardCharsets.US_ASCII));
        assertEquals("8859/1", Charsets.hl7Name(StandardCharsets.ISO_8859_1));
        assertEquals("", Charsets.hl7Name(Charset.forName("windows-1252")));
    }
}
