package org.mllpserver.rules;

/**
 * One OBX segment: {@code obx} is the first, {@code obx_list} all of them in order.
 *
 * <p>A class with public fields rather than a record: cel-java's native-type scanner reads an
 * accessor named {@code set_id()} as a setter of a property "_id", so the record's
 * {@code set_id} was not visible to rules. Public fields are taken by their own names.
 */
public final class Obx {
    public final String set_id;          // OBX-1
    public final String value_type;      // OBX-2
    public final String code;            // OBX-3.1 (observation identifier)
    public final String text;            // OBX-3.2
    public final String value;           // OBX-5.1 of the first repetition
    public final String units;           // OBX-6.1
    public final String reference_range; // OBX-7
    public final String abnormal_flags;  // OBX-8 (first repetition)
    public final String status;          // OBX-11
    public final String observed_at;     // OBX-14.1

    public Obx(String set_id, String value_type, String code, String text, String value, String units, String reference_range,
               String abnormal_flags, String status, String observed_at) {
        this.set_id = set_id;
        this.value_type = value_type;
        this.code = code;
        this.text = text;
        this.value = value;
        this.units = units;
        this.reference_range = reference_range;
        this.abnormal_flags = abnormal_flags;
        this.status = status;
        this.observed_at = observed_at;
    }
}
