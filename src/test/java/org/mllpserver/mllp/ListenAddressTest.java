package org.mllpserver.mllp;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ListenAddressTest {

    @Test
    void parsesTheThreeDocumentedForms() {
        assertEquals(new ListenAddress("", 2575), ListenAddress.parse(":2575"));
        assertEquals(new ListenAddress("127.0.0.1", 2575), ListenAddress.parse("127.0.0.1:2575"));
        assertEquals(new ListenAddress("::1", 2575), ListenAddress.parse("[::1]:2575"));
        assertEquals(new ListenAddress("localhost", 0), ListenAddress.parse("localhost:0"));
    }

    @Test
    void refusesWhatIsNotAnAddress() {
        for (String bad : new String[]{"2575", "::1:2575", "[::1:2575", "host:", "host:port", ":70000", ":-1"}) {
            assertThrows(IllegalArgumentException.class, () -> ListenAddress.parse(bad), bad);
        }
    }

    @Test
    void printsIpv6InBrackets() {
        assertEquals("[::1]:2575", ListenAddress.parse("[::1]:2575").toString());
        assertEquals(":2575", ListenAddress.parse(":2575").toString());
    }
}
