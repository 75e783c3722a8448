package org.mllpserver.hl7;

/**
 * MSA-1 (HL7 table 0008). Original mode answers AA/AE/AR; enhanced mode answers the accept
 * acknowledgment CA/CE/CR, which this store-and-forward server owns.
 */
public enum AckCode {
    AA, AE, AR, CA, CE, CR;

    /** The enhanced-mode (accept) code for an original-mode code. */
    public AckCode toAccept() {
        return switch (this) {
            case AA, CA -> CA;
            case AE, CE -> CE;
            case AR, CR -> CR;
        };
    }

    public boolean isPositive() {
        return this == AA || this == CA;
    }
}
