package org.mllpserver.rules;

import org.junit.jupiter.api.Test;
import org.mllpserver.hl7.MessageReader;
import org.mllpserver.hl7.ParsedMessage;
import org.mllpserver.testing.Corpus;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CEL variables, field(), compile errors and the cost limits, on real messages. */
class RuleSetTest {

    private static final RuleSet.Limits LIMITS = new RuleSet.Limits(1000, 100_000);
    private static final MessageReader READER = new MessageReader(new MessageReader.Settings(StandardCharsets.ISO_8859_1, false));

    static ParsedMessage parse(String text) {
        return parse(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    static ParsedMessage parse(byte[] bytes) {
        return switch (READER.read(bytes)) {
            case MessageReader.Parsed p -> p.message();
            case MessageReader.Refused r -> throw new AssertionError("refused: " + r.problems());
        };
    }

    /** Asserts that each expression is true for the message. */
    private static void allTrue(ParsedMessage message, String... expressions) throws RulesException {
        List<RuleSet.Named> rules = new ArrayList<>();
        for (int i = 0; i < expressions.length; i++) rules.add(new RuleSet.Named("r" + i, expressions[i]));
        RuleSet set = RuleSet.compile(rules, List.of(), LIMITS);
        RuleSet.Verdict verdict = set.evaluate(message);
        if (verdict instanceof RuleSet.Rejected rejected) {
            List<String> failed = rejected.failedRules().stream().map(n -> expressions[Integer.parseInt(n.substring(1))]).toList();
            throw new AssertionError("false: " + failed);
        }
        assertInstanceOf(RuleSet.Accepted.class, verdict, verdict.toString());
    }

    @Test
    void everyVariableOnTheSampleOru() throws Exception {
        ParsedMessage oru = parse(Files.readAllBytes(Path.of("test-data/messages/oru_r01.hl7")));
        allTrue(oru,
                "msh.sending_app == 'LABSYS'", "msh.sending_facility == 'CENTRAL LAB'", "msh.receiving_app == 'MLLPSRV'",
                "msh.receiving_facility == 'HUB'", "msh.msg_type == 'ORU'", "msh.trigger == 'R01'", "msh.structure == 'ORU_R01'",
                "msh.control_id == 'ORU-R01-0001'", "msh.processing_id == 'P'", "msh.version == '2.5.1'",
                "msh.datetime == '20261122113000-0500'", "msh.charset == 'UNICODE UTF-8'",
                "pid.id == 'MRN100001'", "pid.id_list == ['MRN100001']", "pid.assigning_authority == 'GOODHEALTH'",
                "pid.family_name == 'Testpatient'", "pid.given_name == 'Alex'", "pid.dob == '19700101'", "pid.sex == 'F'",
                "pid.account_number == ''",
                "pv1.patient_class == 'I'", "pv1.location == '4EAST'", "pv1.attending == ''", "pv1.visit_number == ''",
                "obx.set_id == '1'", "obx.value_type == 'NM'", "obx.code == '2345-7'", "obx.text == 'Glucose'", "obx.value == '98'",
                "obx.units == 'mg/dL'", "obx.reference_range == '70-99'", "obx.abnormal_flags == 'N'", "obx.status == 'F'",
                "obx.observed_at == '20261122070000-0500'",
                "size(obx_list) == 20", "obx_list[2].code == '2160-0'", "obx_list.all(o, o.status == 'F')",
                "obx_list.exists(o, o.value_type == 'NM' && double(o.value) > 90.0)",
                "field('ORC-2.1') == 'PL100001'", "field('OBR-4.2') == 'Comprehensive metabolic panel'", "field('OBX(3)-5') == '0.9'",
                "field('ZZZ-1') == ''", "field('MSH-1') == '|'", "field('MSH-2') == '^~\\\\&'");
    }

    @Test
    void theSeedProductsExamplesWorkVerbatim() throws Exception {
        ParsedMessage adt = parse(Files.readAllBytes(Path.of("test-data/messages/adt_a01.hl7")));
        allTrue(adt, "msh.msg_type == \"ADT\"", "pid.id != \"\"", "!(msh.msg_type == \"ORU\")");
    }

    @Test
    void versionsFromTwoThreeToTwoEight() throws Exception {
        for (String version : List.of("2.3", "2.4", "2.5.1", "2.6", "2.8")) {
            ParsedMessage m = parse("MSH|^~\\&|A|B|C|D|20260101120000||ADT^A08^ADT_A01|V-" + version + "|P|" + version + "\r"
                    + "EVN|A08|20260101120000\rPID|1||123^^^HOSP^MR~456^^^OTHER^PI||Doe^Jane||19800202|F||||||||||ACC-9\r"
                    + "PV1|1|O|CLINIC^12^3||||DOC1^House^Greg||||||||||||V-77|||||||||||||||||||||||||20260101110000\r");
            allTrue(m, "msh.version == '" + version + "'", "pid.id == '123'", "pid.id_list == ['123', '456']",
                    "pid.assigning_authority == 'HOSP'", "pid.account_number == 'ACC-9'", "pv1.patient_class == 'O'",
                    "pv1.location == 'CLINIC'", "pv1.attending == 'DOC1'", "pv1.visit_number == 'V-77'",
                    "pv1.admit_datetime == '20260101110000'", "size(obx_list) == 0", "obx.value == ''");
        }
    }

    @Test
    void missingSegmentsAndFieldsReadAsEmpty() throws Exception {
        ParsedMessage bare = parse("MSH|^~\\&|A|B|C|D|20260101120000||ACK^A01|X1|P|2.5\rMSA|AA|Y\r");
        allTrue(bare, "pid.id == ''", "!(pid.id != '')", "pid.id_list == []", "pv1.location == ''", "obx.code == ''",
                "obx_list == []", "msh.charset == ''", "msh.structure == ''", "field('PID-3') == ''", "field('MSA(2)-1') == ''",
                "msh.?trigger.orValue('none') == 'A01'");
    }

    @Test
    void escapesAreDecodedAndNonAsciiValuesSurvive() throws Exception {
        ParsedMessage latin = parse("MSH|^~\\&|A|B|C|D|20260101120000||ADT^A08|E1|P|2.5||||||8859/1\r"
                + "PID|1||X\\T\\1||M\u00fcller\\S\\Jr^J\\F\\R\rOBX|1|ST|C^Text\\E\\more||a\\R\\b||||||F\r");
        allTrue(latin, "pid.id == 'X&1'", "pid.family_name == 'M\u00fcller^Jr'", "pid.given_name == 'J|R'",
                "obx.text == 'Text\\\\more'", "obx.value == 'a~b'", "pid.family_name.startsWith('M\u00fc')");
        byte[] utf8 = ("MSH|^~\\&|A|B|C|D|20260101120000||ADT^A08|U1|P|2.5||||||UNICODE UTF-8\r"
                + "PID|1||\u6771\u4eac-1||\u5c71\u7530^\u592a\u90ce\r").getBytes(StandardCharsets.UTF_8);
        assertEquals("\u6771\u4eac-1", parse(utf8).get("PID", 1, 3, 1, 1, 1));
        allTrue(parse(utf8), "pid.id == '\u6771\u4eac-1'", "pid.family_name == '\u5c71\u7530'", "size(pid.given_name) == 2");
    }

    @Test
    void everyCorpusMessageEvaluatesEveryVariableWithoutError() throws Exception {
        RuleSet set = RuleSet.compile(List.of(new RuleSet.Named("all", """
                msh.msg_type != '' || pid.id != '' || pid.id_list.size() >= 0 || pv1.location != '' ||
                obx.value != '' || obx_list.exists(o, o.abnormal_flags == 'H') || field('OBR-4.1') != ''""")),
                List.of(), new RuleSet.Limits(10_000, 1_000_000));
        int evaluated = 0;
        for (String folder : List.of("messages", "edge")) {
            for (Path file : Corpus.files(folder)) {
                if (!(READER.read(Corpus.bytes(file)) instanceof MessageReader.Parsed parsed)) continue;
                assertInstanceOf(RuleSet.Accepted.class, set.evaluate(parsed.message()), Corpus.name(file));
                evaluated++;
            }
        }
        assertTrue(evaluated > 250, evaluated + " evaluated");
    }

    @Test
    void everyCompileErrorIsReportedAtOnceWithItsPlace() {
        RulesException e = assertThrows(RulesException.class, () -> RuleSet.compile(List.of(
                        new RuleSet.Named("syntax", "msh.msg_type == "),
                        new RuleSet.Named("unknown-field", "msh.msg_typ == 'ADT'"),
                        new RuleSet.Named("unknown-variable", "pdi.id != ''"),
                        new RuleSet.Named("wrong-type", "msh.version > 2"),
                        new RuleSet.Named("not-a-bool", "msh.msg_type"),
                        new RuleSet.Named("bad-path", "field('PID3') != ''"),
                        new RuleSet.Named("nested", "obx_list.all(a, obx_list.all(b, a.value != b.value))"),
                        new RuleSet.Named("fine", "pid.id != ''")),
                List.of(new RuleSet.Named("lab", "msh.msg_type = 'ORU'")), LIMITS));
        List<String> problems = e.problems();
        assertEquals(8, problems.size(), String.join("\n\n", problems));
        String all = String.join("\n", problems);
        for (String expected : List.of("rule syntax:1:17", "rule unknown-field:1:4: undefined field 'msg_typ'",
                "rule unknown-variable:1:1: undeclared reference to 'pdi'", "rule wrong-type:1:13", "rule not-a-bool",
                "rule bad-path:1:7: \"PID3\" is not a field path", "rule nested: estimated cost", "filter of connector lab:1:")) {
            assertTrue(all.contains(expected), "missing \"" + expected + "\" in:\n" + all);
        }
        assertTrue(all.contains("\n | msh.msg_typ == 'ADT'\n | ...^"), "a caret under the error:\n" + all);
        assertTrue(problems.stream().noneMatch(p -> p.contains("rule fine")), all);
    }

    @Test
    void aSinglePassOverObxIsWithinTheDefaultCostAndANestedOneIsNot() throws Exception {
        RuleSet.compile(List.of(new RuleSet.Named("one-pass", "obx_list.exists(o, o.abnormal_flags in ['H', 'L', 'HH', 'LL'])"),
                new RuleSet.Named("two-passes", "obx_list.all(o, o.status == 'F') && obx_list.exists(o, o.value_type == 'NM')")),
                List.of(), LIMITS);
        assertThrows(RulesException.class, () -> RuleSet.compile(List.of(new RuleSet.Named("nested",
                "obx_list.exists(a, obx_list.exists(b, a.code == b.code && a.set_id != b.set_id))")), List.of(), LIMITS));
    }

    @Test
    void aRunawayRuleOverTenThousandObxStopsAtItsBudget() throws Exception {
        StringBuilder text = new StringBuilder("MSH|^~\\&|A|B|C|D|20260101120000||ORU^R01|BIG|P|2.5\rPID|1||1\r");
        for (int i = 1; i <= 10_000; i++) text.append("OBX|").append(i).append("|NM|C").append(i).append("||").append(i).append("||||||F\r");
        ParsedMessage big = parse(text.toString());
        // Passes the static estimate only because the limit was raised; at run time it would take 10^8 steps.
        RuleSet nested = RuleSet.compile(List.of(new RuleSet.Named("duplicates",
                "!obx_list.exists(a, obx_list.exists(b, a.code == b.code && a.set_id != b.set_id))")), List.of(),
                new RuleSet.Limits(1_000_000, 100_000));
        RuleSet.Failed failed = assertInstanceOf(RuleSet.Failed.class, nested.evaluate(big));
        assertEquals("rule duplicates", failed.expression());
        assertTrue(failed.reason().contains("budget of 100000 evaluation steps"), failed.reason());
        // A single pass within the default cost, but over 10 000 entries with a small step limit.
        RuleSet single = RuleSet.compile(List.of(new RuleSet.Named("all-final", "obx_list.all(o, o.status == 'F')")), List.of(),
                new RuleSet.Limits(1000, 5_000));
        assertInstanceOf(RuleSet.Failed.class, single.evaluate(big));
        // The same rule with the default step limit runs to the end.
        RuleSet roomy = RuleSet.compile(List.of(new RuleSet.Named("all-final", "obx_list.all(o, o.status == 'F')")), List.of(),
                new RuleSet.Limits(1000, 1_000_000));
        assertInstanceOf(RuleSet.Accepted.class, roomy.evaluate(big));
    }

    @Test
    void mapAndFilterOverAHugeListStopAtTheTimeLimit() throws Exception {
        StringBuilder text = new StringBuilder("MSH|^~\\&|A|B|C|D|20260101120000||ORU^R01|BIG|P|2.5\rPID|1||1\r");
        for (int i = 1; i <= 20_000; i++) text.append("OBX|").append(i).append("|NM|C").append(i).append("||").append(i).append("||||||F\r");
        ParsedMessage big = parse(text.toString());
        // Each step of map/filter copies the list built so far: 20 000 entries are about 2 * 10^8 copies.
        for (String rule : List.of("obx_list.map(o, o.value).size() > 0", "obx_list.filter(o, o.status == 'F').size() > 0")) {
            RuleSet set = RuleSet.compile(List.of(new RuleSet.Named("quadratic", rule)), List.of(),
                    new RuleSet.Limits(1000, 1_000_000, java.time.Duration.ofMillis(100)));
            RuleSet.Failed failed = assertInstanceOf(RuleSet.Failed.class, set.evaluate(big), rule);
            assertTrue(failed.reason().contains("MAX_RULE_TIME"), failed.reason());
        }
    }

    @Test
    void patternsAndReplacementsBuiltFromTheMessageDoNotCompile() {
        RulesException e = assertThrows(RulesException.class, () -> RuleSet.compile(List.of(
                new RuleSet.Named("pattern", "'x'.matches(obx.value)"),
                new RuleSet.Named("global", "matches(pid.id, field('ZZZ-1'))"),
                new RuleSet.Named("replace", "field('OBX-5').replace('a', field('OBX-5')) != ''"),
                new RuleSet.Named("fine", "pid.id.matches('^[0-9]+$') && pid.family_name.replace('-', ' ') != ''")), List.of(), LIMITS));
        assertEquals(3, e.problems().size(), String.join("\n", e.problems()));
        assertTrue(e.problems().getFirst().contains("matches() needs a constant pattern"), e.problems().getFirst());
    }

    @Test
    void aRuleThatErrorsAtRunTimeFailsTheMessageInsteadOfPassingIt() throws Exception {
        ParsedMessage oru = parse(Files.readAllBytes(Path.of("test-data/messages/oru_r01.hl7")));
        RuleSet set = RuleSet.compile(List.of(new RuleSet.Named("number", "int(pid.id) > 0"),
                new RuleSet.Named("dynamic-path", "field(msh.msg_type) == ''")), List.of(), LIMITS);
        RuleSet.Failed failed = assertInstanceOf(RuleSet.Failed.class, set.evaluate(oru));
        assertEquals("rule number", failed.expression());
        RuleSet path = RuleSet.compile(List.of(new RuleSet.Named("dynamic-path", "field(msh.msg_type) == ''")), List.of(), LIMITS);
        String reason = assertInstanceOf(RuleSet.Failed.class, path.evaluate(oru)).reason();
        assertTrue(reason.contains("not a field path"), reason);
    }

    @Test
    void allRulesRunAndFiltersDecideTheConnectors() throws Exception {
        ParsedMessage oru = parse(Files.readAllBytes(Path.of("test-data/messages/oru_r01.hl7")));
        RuleSet set = RuleSet.compile(
                List.of(new RuleSet.Named("has-pid", "pid.id != ''"), new RuleSet.Named("is-adt", "msh.msg_type == 'ADT'"),
                        new RuleSet.Named("from-ehr", "msh.sending_app == 'EHR'")),
                List.of(), LIMITS);
        assertEquals(List.of("is-adt", "from-ehr"), assertInstanceOf(RuleSet.Rejected.class, set.evaluate(oru)).failedRules());
        RuleSet routes = RuleSet.compile(List.of(), List.of(new RuleSet.Named("ehr-ingest", "msh.msg_type == \"ADT\""),
                new RuleSet.Named("lab-archive", "msh.msg_type == \"ORU\""), new RuleSet.Named("everything", ""),
                new RuleSet.Named("high", "obx_list.exists(o, o.abnormal_flags == 'H')")), LIMITS);
        assertEquals(List.of("lab-archive", "everything", "high"), assertInstanceOf(RuleSet.Accepted.class, routes.evaluate(oru)).connectors());
    }
}
