package org.mllpserver.mllp;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The process-wide frame budget: reservations, waiting, the largest unfinished frame giving way, and closing. */
class FrameBudgetTest {

    private static final long FAR = Long.MAX_VALUE / 2;

    @Test
    void grantsWhatFitsAndGivesItBack() {
        FrameBudget budget = new FrameBudget(100, System::nanoTime);
        FrameBudget.Holder a = budget.holder(() -> { });
        assertEquals(FrameMemory.Grant.GRANTED, a.reserve(60, FAR));
        assertEquals(FrameMemory.Grant.GRANTED, a.reserveWhole(40, FAR));
        assertEquals(100, budget.used());
        a.release(60);
        assertEquals(40, budget.used());
        a.close();
        assertEquals(0, budget.used());
        assertEquals(100, budget.peak());
    }

    @Test
    void aFrameLargerThanTheWholeBudgetNeverFits() {
        FrameBudget budget = new FrameBudget(100, System::nanoTime);
        FrameBudget.Holder a = budget.holder(() -> { });
        assertEquals(FrameMemory.Grant.GRANTED, a.reserve(80, FAR));
        assertEquals(FrameMemory.Grant.NEVER_FITS, a.reserve(21, FAR));
    }

    @Test
    void aWaiterTimesOutAtItsDeadlineWhenNothingIsFreed() {
        FrameBudget budget = new FrameBudget(100, System::nanoTime);
        FrameBudget.Holder big = budget.holder(() -> { });
        assertEquals(FrameMemory.Grant.GRANTED, big.reserve(50, FAR));
        assertTrue(big.settle(), "a complete frame is never asked back");
        FrameBudget.Holder other = budget.holder(() -> { });
        assertEquals(FrameMemory.Grant.GRANTED, other.reserve(50, FAR));
        assertEquals(FrameMemory.Grant.TIMED_OUT, other.reserve(10, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50)));
        assertEquals(1, budget.timedOut());
        assertEquals(0, budget.gaveWay(), "the only larger holder is complete: nobody is asked");
    }

    @Test
    void aWaiterGetsTheRoomThatIsFreed() throws Exception {
        FrameBudget budget = new FrameBudget(100, System::nanoTime);
        FrameBudget.Holder first = budget.holder(() -> { });
        assertEquals(FrameMemory.Grant.GRANTED, first.reserveWhole(100, FAR));
        FrameBudget.Holder second = budget.holder(() -> { });
        CompletableFuture<FrameMemory.Grant> waiting = async(() -> second.reserveWhole(30, FAR));
        awaitTrue(() -> budget.waiting() == 1);
        assertFalse(waiting.isDone());
        first.release(100);
        assertEquals(FrameMemory.Grant.GRANTED, waiting.get(5, TimeUnit.SECONDS));
        assertEquals(30, budget.used());
    }

    @Test
    void theLargestUnfinishedFrameGivesWayToASmallerOne() throws Exception {
        FrameBudget budget = new FrameBudget(100, System::nanoTime);
        AtomicInteger wokenLarge = new AtomicInteger();
        AtomicInteger wokenMiddle = new AtomicInteger();
        FrameBudget.Holder large = budget.holder(wokenLarge::incrementAndGet);
        FrameBudget.Holder middle = budget.holder(wokenMiddle::incrementAndGet);
        assertEquals(FrameMemory.Grant.GRANTED, large.reserve(60, FAR));
        assertEquals(FrameMemory.Grant.GRANTED, middle.reserve(40, FAR));
        FrameBudget.Holder small = budget.holder(() -> { });
        CompletableFuture<FrameMemory.Grant> asking = async(() -> small.reserve(10, FAR));
        awaitTrue(large::gaveWay);
        assertEquals(1, wokenLarge.get(), "the largest holder's read is woken");
        assertFalse(middle.gaveWay(), "one giving way frees enough: nobody else is asked");
        assertFalse(large.settle(), "a frame asked to give way cannot complete any more");
        assertEquals(FrameMemory.Grant.GAVE_WAY, large.reserve(1, FAR));
        large.close(); // its connection answers and closes
        assertEquals(FrameMemory.Grant.GRANTED, asking.get(5, TimeUnit.SECONDS));
        assertEquals(0, wokenMiddle.get());
        assertEquals(1, budget.gaveWay());
    }

    @Test
    void aFrameNeverGivesWayToOneThatWouldBeAsLarge() {
        FrameBudget budget = new FrameBudget(100, System::nanoTime);
        FrameBudget.Holder a = budget.holder(() -> { });
        FrameBudget.Holder b = budget.holder(() -> { });
        assertEquals(FrameMemory.Grant.GRANTED, a.reserve(50, FAR));
        assertEquals(FrameMemory.Grant.GRANTED, b.reserve(50, FAR));
        // b would hold 60 after this ask; a holds 50: a is not larger, so b waits (backpressure) instead.
        assertEquals(FrameMemory.Grant.TIMED_OUT, b.reserve(10, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50)));
        assertFalse(a.gaveWay());
        assertEquals(0, budget.gaveWay());
    }

    @Test
    void closingWakesAHolderThatWaitsForRoom() throws Exception {
        FrameBudget budget = new FrameBudget(100, System::nanoTime);
        FrameBudget.Holder full = budget.holder(() -> { });
        assertEquals(FrameMemory.Grant.GRANTED, full.reserveWhole(100, FAR));
        FrameBudget.Holder waiter = budget.holder(() -> { });
        CompletableFuture<FrameMemory.Grant> waiting = async(() -> waiter.reserve(10, FAR));
        awaitTrue(() -> budget.waiting() == 1);
        waiter.interrupt(); // the drain closes its connection
        assertEquals(FrameMemory.Grant.GAVE_WAY, waiting.get(5, TimeUnit.SECONDS));
    }

    @Test
    void aConnectionThatGaveWayButIsSlowToCloseDoesNotHoldOffTheNextRequest() throws Exception {
        FrameBudget budget = new FrameBudget(256 * 1024, System::nanoTime);
        FrameBudget.Holder a = budget.holder(() -> { });
        FrameBudget.Holder b = budget.holder(() -> { });
        for (int i = 0; i < 11; i++) assertEquals(FrameMemory.Grant.GRANTED, a.reserve(16 * 1024, FAR)); // 176 KiB
        for (int i = 0; i < 5; i++) assertEquals(FrameMemory.Grant.GRANTED, b.reserve(16 * 1024, FAR));  // 80 KiB: full
        FrameBudget.Holder c = budget.holder(() -> { });
        CompletableFuture<FrameMemory.Grant> first = async(() -> c.reserveWhole(2048, FAR));
        awaitTrue(a::gaveWay);
        a.release(7 * 16 * 1024); // a gives its frame up but keeps its first 64 KiB for its NAK, and is slow to close
        assertEquals(FrameMemory.Grant.GRANTED, first.get(5, TimeUnit.SECONDS));
        assertEquals(0, budget.leaving(), "what a keeps is not counted as about to be freed");
        c.release(2048);
        while (b.reserve(16 * 1024, System.nanoTime()) == FrameMemory.Grant.GRANTED) {
            // b streams on and takes what was freed
        }
        FrameBudget.Holder d = budget.holder(() -> { });
        CompletableFuture<FrameMemory.Grant> next = async(() -> d.reserveWhole(2048, FAR));
        awaitTrue(b::gaveWay); // the next ordinary frame gets b asked, and is not held off by a
        b.release(b.held());   // b's connection gives its frame up
        assertEquals(FrameMemory.Grant.GRANTED, next.get(5, TimeUnit.SECONDS));
    }

    @Test
    void anAnswerItsPeerDoesNotReadIsAskedBackAfterASecond() throws Exception {
        AtomicLong jump = new AtomicLong();
        FrameBudget budget = new FrameBudget(100_000, () -> System.nanoTime() + jump.get()); // real time, and a jump
        AtomicInteger woken = new AtomicInteger();
        FrameBudget.Holder writer = budget.holder(woken::incrementAndGet);
        assertEquals(FrameMemory.Grant.GRANTED, writer.reserveWhole(90_000, FAR));
        writer.replying();
        FrameBudget.Holder small = budget.holder(() -> { });
        CompletableFuture<FrameMemory.Grant> asking = async(() -> small.reserveWhole(20_000, FAR));
        awaitTrue(() -> budget.looks() >= 1); // the asker has waited long enough to look for someone to ask...
        assertEquals(0, woken.get(), "...but an answer written for less than a second is not asked back");
        jump.addAndGet(FrameBudget.STUCK_REPLY_NANOS);
        awaitTrue(() -> woken.get() == 1); // now its connection is closed (the asker looks again within 100 ms)...
        writer.close();                   // ...and gives everything back
        assertEquals(FrameMemory.Grant.GRANTED, asking.get(5, TimeUnit.SECONDS));
    }

    @Test
    void aReleaseWakesTheFirstWaiterWhoseNeedFits() throws Exception {
        FrameBudget budget = new FrameBudget(100, 0, System::nanoTime); // nobody gives way: waiting only
        FrameBudget.Holder full = budget.holder(() -> { });
        assertEquals(FrameMemory.Grant.GRANTED, full.reserveWhole(100, FAR));
        FrameBudget.Holder big = budget.holder(() -> { });
        CompletableFuture<FrameMemory.Grant> bigWaits = async(() -> big.reserveWhole(80, FAR));
        awaitTrue(() -> budget.waiting() == 1);
        FrameBudget.Holder small = budget.holder(() -> { });
        CompletableFuture<FrameMemory.Grant> smallWaits = async(() -> small.reserveWhole(10, FAR));
        awaitTrue(() -> budget.waiting() == 2);
        full.release(20);
        assertEquals(FrameMemory.Grant.GRANTED, smallWaits.get(5, TimeUnit.SECONDS), "20 bytes fit the small one, not the first");
        assertFalse(bigWaits.isDone());
        full.release(80);
        assertEquals(FrameMemory.Grant.GRANTED, bigWaits.get(5, TimeUnit.SECONDS));
        assertEquals(90, budget.used());
    }

    @Test
    void manyThreadsNeverHoldMoreThanTheBudget() throws Exception {
        long seed = Long.getLong("test.seed", System.nanoTime());
        System.out.println("FrameBudgetTest concurrent holders: seed " + seed + " (rerun with -Dtest.seed=" + seed + ")");
        FrameBudget budget = new FrameBudget(64 * 1024, System::nanoTime);
        java.util.List<Thread> threads = new java.util.ArrayList<>();
        for (int t = 0; t < 16; t++) {
            java.util.Random random = new java.util.Random(seed + t);
            threads.add(Thread.ofVirtual().start(() -> {
                for (int round = 0; round < 300; round++) {
                    FrameBudget.Holder h = budget.holder(() -> { });
                    int chunks = 1 + random.nextInt(6);
                    for (int c = 0; c < chunks; c++) {
                        if (h.reserve(4096, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20)) != FrameMemory.Grant.GRANTED) break;
                        assertTrue(budget.used() <= budget.capacity());
                    }
                    if (random.nextBoolean()) h.settle();
                    h.close();
                }
            }));
        }
        for (Thread t : threads) assertTrue(t.join(java.time.Duration.ofSeconds(60)), "seed " + seed);
        assertEquals(0, budget.used(), "everything given back; seed " + seed);
        assertEquals(0, budget.leaving(), "nothing left counted as about to be freed; seed " + seed);
        assertTrue(budget.peak() <= budget.capacity(), "peak " + budget.peak() + "; seed " + seed);
    }

    /** On a thread of its own (the common pool may have a single thread on this machine). */
    private static <T> CompletableFuture<T> async(java.util.function.Supplier<T> work) {
        CompletableFuture<T> result = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                result.complete(work.get());
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        });
        return result;
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out");
            java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
    }
}
