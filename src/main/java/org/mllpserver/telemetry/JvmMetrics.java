package org.mllpserver.telemetry;

import com.sun.management.GarbageCollectionNotificationInfo;
import com.sun.management.OperatingSystemMXBean;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.DoubleHistogram;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.metrics.ObservableLongMeasurement;

import java.lang.management.ClassLoadingMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.ToLongFunction;
import javax.management.ListenerNotFoundException;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

/**
 * The process's CPU, memory, garbage collection, thread and class figures, read from the JDK's
 * management beans (no agent), under the OpenTelemetry semantic-convention names for JVM runtime
 * metrics: {@code process.cpu.time}, {@code jvm.cpu.count}, {@code jvm.cpu.recent_utilization},
 * {@code jvm.memory.used|committed|limit|used_after_last_gc} (per pool), {@code jvm.gc.duration}
 * (a histogram: its count is the number of collections), {@code jvm.thread.count} (platform
 * threads: the JDK does not count virtual ones, which carry the connections) and
 * {@code jvm.class.loaded|unloaded|count}.
 *
 * <p>Needs the {@code jdk.management} module (for {@code com.sun.management}): a jlink image must
 * include it, which jdeps finds.
 *
 * <p>Everything but the GC durations is read when metrics are collected; collections are
 * recorded as the JDK announces them, on its notification thread. Attribute values are the JVM's
 * own pool, collector and action names: a fixed set for a running JVM.
 */
final class JvmMetrics implements AutoCloseable {

    static final AttributeKey<String> MEMORY_TYPE = AttributeKey.stringKey("jvm.memory.type");
    static final AttributeKey<String> MEMORY_POOL = AttributeKey.stringKey("jvm.memory.pool.name");
    static final AttributeKey<String> GC_NAME = AttributeKey.stringKey("jvm.gc.name");
    static final AttributeKey<String> GC_ACTION = AttributeKey.stringKey("jvm.gc.action");
    static final AttributeKey<Boolean> THREAD_DAEMON = AttributeKey.booleanKey("jvm.thread.daemon");
    /** Seconds: the semantic conventions' advice for jvm.gc.duration. */
    static final List<Double> GC_BUCKETS = List.of(0.01, 0.1, 1.0, 10.0);

    private record Pool(MemoryPoolMXBean bean, Attributes attributes) {}

    private record Subscription(NotificationEmitter emitter, NotificationListener listener) {}

    private final List<Pool> pools;
    private final DoubleHistogram gcDuration;
    /** Per collector and action; as many as the JVM has (a handful). */
    private final Map<String, Attributes> gcAttributes = new ConcurrentHashMap<>();
    private final List<Subscription> subscriptions = new ArrayList<>();

    JvmMetrics(Meter meter) {
        pools = ManagementFactory.getMemoryPoolMXBeans().stream().map(bean -> new Pool(bean, Attributes.of(
                MEMORY_TYPE, bean.getType() == MemoryType.HEAP ? "heap" : "non_heap", MEMORY_POOL, bean.getName()))).toList();
        observeCpu(meter);
        observeMemory(meter);
        observeThreadsAndClasses(meter);
        gcDuration = meter.histogramBuilder("jvm.gc.duration").setUnit("s").setExplicitBucketBoundariesAdvice(GC_BUCKETS)
                .setDescription("Duration of JVM garbage collection actions").build();
        subscribeToCollections();
    }

    private static void observeCpu(Meter meter) {
        OperatingSystemMXBean os = ManagementFactory.getPlatformMXBean(OperatingSystemMXBean.class);
        meter.counterBuilder("process.cpu.time").ofDoubles().setUnit("s").setDescription("CPU time used by the process")
                .buildWithCallback(m -> {
                    long nanos = os.getProcessCpuTime();
                    if (nanos >= 0) m.record(nanos / 1e9); // -1: not available on this platform
                });
        meter.upDownCounterBuilder("jvm.cpu.count").setUnit("{cpu}").setDescription("Processors available to the JVM")
                .buildWithCallback(m -> m.record(Runtime.getRuntime().availableProcessors()));
        meter.gaugeBuilder("jvm.cpu.recent_utilization").setUnit("1").setDescription("Recent CPU use of the process, 0 to 1")
                .buildWithCallback(m -> {
                    double load = os.getProcessCpuLoad();
                    if (load >= 0) m.record(load); // negative: not measured yet
                });
    }

    private void observeMemory(Meter meter) {
        meter.upDownCounterBuilder("jvm.memory.used").setUnit("By").setDescription("Memory used, per pool")
                .buildWithCallback(m -> perPool(m, MemoryPoolMXBean::getUsage, MemoryUsage::getUsed));
        meter.upDownCounterBuilder("jvm.memory.committed").setUnit("By").setDescription("Memory committed, per pool")
                .buildWithCallback(m -> perPool(m, MemoryPoolMXBean::getUsage, MemoryUsage::getCommitted));
        meter.upDownCounterBuilder("jvm.memory.limit").setUnit("By").setDescription("Most memory a pool may use, where it has a limit")
                .buildWithCallback(m -> perPool(m, MemoryPoolMXBean::getUsage, MemoryUsage::getMax));
        meter.upDownCounterBuilder("jvm.memory.used_after_last_gc").setUnit("By")
                .setDescription("Memory used after the last collection, per pool that is collected")
                .buildWithCallback(m -> perPool(m, MemoryPoolMXBean::getCollectionUsage, MemoryUsage::getUsed));
    }

    /**
     * One figure of each pool's {@code usage}. Left out: a pool without that usage (null: not
     * collected, or no longer valid) and a figure of -1 (a pool without a limit).
     */
    private void perPool(ObservableLongMeasurement m, Function<MemoryPoolMXBean, MemoryUsage> usage, ToLongFunction<MemoryUsage> figure) {
        for (Pool pool : pools) {
            MemoryUsage u = usage.apply(pool.bean());
            long value = u == null ? -1 : figure.applyAsLong(u);
            if (value >= 0) m.record(value, pool.attributes());
        }
    }

    private static void observeThreadsAndClasses(Meter meter) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        Attributes daemon = Attributes.of(THREAD_DAEMON, true);
        Attributes notDaemon = Attributes.of(THREAD_DAEMON, false);
        meter.upDownCounterBuilder("jvm.thread.count").setUnit("{thread}").setDescription("Live platform threads")
                .buildWithCallback(m -> {
                    int daemons = threads.getDaemonThreadCount();
                    m.record(daemons, daemon);
                    m.record(threads.getThreadCount() - daemons, notDaemon);
                });
        ClassLoadingMXBean classes = ManagementFactory.getClassLoadingMXBean();
        meter.counterBuilder("jvm.class.loaded").setUnit("{class}").setDescription("Classes loaded since the JVM started")
                .buildWithCallback(m -> m.record(classes.getTotalLoadedClassCount()));
        meter.counterBuilder("jvm.class.unloaded").setUnit("{class}").setDescription("Classes unloaded since the JVM started")
                .buildWithCallback(m -> m.record(classes.getUnloadedClassCount()));
        meter.upDownCounterBuilder("jvm.class.count").setUnit("{class}").setDescription("Classes loaded now")
                .buildWithCallback(m -> m.record(classes.getLoadedClassCount()));
    }

    /** A collection is recorded when the JDK announces its end: polling the collectors' totals would lose the durations. */
    private void subscribeToCollections() {
        for (GarbageCollectorMXBean bean : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (!(bean instanceof NotificationEmitter emitter)) continue;
            NotificationListener listener = (notification, handback) -> collected(notification);
            emitter.addNotificationListener(listener,
                    n -> GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(n.getType()), null);
            subscriptions.add(new Subscription(emitter, listener));
        }
    }

    private void collected(Notification notification) {
        GarbageCollectionNotificationInfo info = GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
        Attributes attributes = gcAttributes.computeIfAbsent(info.getGcName() + '\0' + info.getGcAction(),
                key -> Attributes.of(GC_NAME, info.getGcName(), GC_ACTION, info.getGcAction()));
        gcDuration.record(info.getGcInfo().getDuration() / 1e3, attributes);
    }

    /** Stops listening for collections (the callbacks end with the meter provider). */
    @Override
    public void close() {
        for (Subscription s : subscriptions) {
            try {
                s.emitter().removeNotificationListener(s.listener());
            } catch (ListenerNotFoundException e) {
                // Already removed: nothing is left to stop.
            }
        }
        subscriptions.clear();
    }
}
