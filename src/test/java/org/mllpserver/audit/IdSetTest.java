package org.mllpserver.audit;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdSetTest {

    @Test
    void holdsWhatWasAddedAndNothingElse() {
        long seed = System.nanoTime();
        System.out.println("IdSetTest seed " + seed);
        Random random = new Random(seed);
        IdSet set = new IdSet();
        Set<UUID> reference = new HashSet<>();
        List<UUID> added = new ArrayList<>();
        for (int i = 0; i < 200_000; i++) {
            UUID id = random.nextInt(50) == 0 && !added.isEmpty() ? added.get(random.nextInt(added.size())) // some twice
                    : new UUID(random.nextLong(), random.nextLong());
            set.add(id);
            reference.add(id);
            added.add(id);
        }
        assertEquals(reference.size(), set.size(), "seed " + seed);
        for (UUID id : reference) assertTrue(set.contains(id), "seed " + seed);
        for (int i = 0; i < 200_000; i++) {
            UUID other = new UUID(random.nextLong(), random.nextLong());
            assertEquals(reference.contains(other), set.contains(other), "seed " + seed);
        }
        set.add(new UUID(0, 0));
        assertTrue(set.contains(new UUID(0, 0)));
    }
}
