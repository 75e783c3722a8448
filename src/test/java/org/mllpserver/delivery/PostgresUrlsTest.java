package org.mllpserver.delivery;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PostgresUrlsTest {

    private static PostgresUrls.Jdbc jdbc(String url) {
        return PostgresUrls.jdbcUrl(url);
    }

    @Test
    void splitsUserAndPasswordOutOfTheUrl() {
        assertEquals(new PostgresUrls.Jdbc("jdbc:postgresql://db.example.com:6543/hl7?sslmode=require", "hl7user", "p@ss:w/rd"),
                jdbc("postgres://hl7user:p%40ss%3Aw%2Frd@db.example.com:6543/hl7?sslmode=require"));
        assertEquals(new PostgresUrls.Jdbc("jdbc:postgresql://db:5432/hl7", "hl7user", ""), jdbc("postgresql://hl7user@db/hl7"));
        assertEquals(new PostgresUrls.Jdbc("jdbc:postgresql://db:5432/hl7", "", ""), jdbc("postgresql://db/hl7"));
    }

    @Test
    void percentDecodesAsUtf8AndKeepsPlus() {
        PostgresUrls.Jdbc j = jdbc("postgres://us%C3%A9r:a+b%20c@h/d");
        assertEquals("usér", j.user());
        assertEquals("a+b c", j.password());
        assertEquals("p@ss", jdbc("postgres://u:p@ss@h/d").password(), "a raw '@' in the password: the last '@' ends it");
    }

    @Test
    void defaultsPortAndHost() {
        assertEquals("jdbc:postgresql://h:5432/d", jdbc("postgres://h/d").jdbcUrl());
        assertEquals("jdbc:postgresql://h:5432/d", jdbc("POSTGRES://h:/d").jdbcUrl());
        assertEquals("jdbc:postgresql://localhost:5432/d", jdbc("postgres:///d").jdbcUrl());
        assertEquals("jdbc:postgresql://h:5432/", jdbc("postgres://h").jdbcUrl(), "no database: the server's default (the user's name)");
    }

    @Test
    void keepsIpv6HostsInBrackets() {
        assertEquals("jdbc:postgresql://[::1]:5433/d", jdbc("postgres://u:p@[::1]:5433/d").jdbcUrl());
        assertEquals("jdbc:postgresql://[2001:db8::7]:5432/d", jdbc("postgresql://[2001:db8::7]/d").jdbcUrl());
    }

    @Test
    void keepsSeveralHosts() {
        assertEquals("jdbc:postgresql://a:5433,b:5432,[::1]:6000/d?targetServerType=primary",
                jdbc("postgres://a:5433,b,[::1]:6000/d?targetServerType=primary").jdbcUrl());
    }

    @Test
    void translatesQueryParameters() {
        PostgresUrls.Jdbc j = jdbc("postgres://h/my%20db?user=x&password=y%26z&connect_timeout=10&application_name=my%20app"
                + "&sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem");
        assertEquals("x", j.user());
        assertEquals("y&z", j.password());
        // The driver URL-decodes the database name and values: '+' is its space.
        assertEquals("jdbc:postgresql://h:5432/my+db?connectTimeout=10&ApplicationName=my+app&sslmode=verify-full"
                + "&sslrootcert=%2Fetc%2Fca.pem", j.jdbcUrl());
    }

    @Test
    void leavesJdbcUrlsAlone() {
        String url = "jdbc:postgresql://h:5432/d?sslmode=require";
        assertEquals(new PostgresUrls.Jdbc(url, "", ""), jdbc(url));
    }

    @Test
    void hidesThePasswordInToString() {
        assertFalse(jdbc("postgres://u:secret@h/d").toString().contains("secret"));
    }

    @Test
    void refusesWhatItCannotConvertWithoutQuotingTheUrl() {
        String[] bad = {"mysql://u:secret@h/d", "postgres://u:sec%zzret@h/d", "postgres://u:secret@h:99999/d",
                "postgres://u:secret@h:port/d", "postgres://u:secret@%2Fvar%2Frun%2Fpostgresql/d", "postgres://u:secret@[::1/d",
                "postgres://u:secret@::1/d", "postgres://u:secret@h/d?dbname=x", "postgres://u:secret%FF@h/d"};
        for (String url : bad) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> jdbc(url), url);
            assertFalse(e.getMessage().contains("secret") || e.getMessage().contains("sec"), e.getMessage());
        }
    }
}
