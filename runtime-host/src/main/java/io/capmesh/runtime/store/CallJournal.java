package io.capmesh.runtime.store;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What extension code is doing right now, kept where the end of the process cannot erase it: a memory-mapped file
 * of one slot per extension id, counting the loads (class initialization, {@code start()}) and the calls in
 * progress. A write is a memory write to a page the kernel keeps for the file, so it survives a {@code kill -9},
 * a native crash, an out-of-memory exit and an exit the guard missed, and costs a call two atomic additions.
 *
 * <p>The file also says whether the last run ended cleanly. Opened after an end that was not clean, it answers the
 * suspects of that end: the ids that were loading then, or if none was, those that had calls in flight.
 */
public final class CallJournal implements AutoCloseable {

    /** An id's place in the journal; {@link #NONE} journals nothing (extensions in a child JVM, tests). */
    public static final class Slot {
        public static final Slot NONE = new Slot(null, -1);

        private final MappedByteBuffer buffer;
        private final int at;

        private Slot(MappedByteBuffer buffer, int at) {
            this.buffer = buffer;
            this.at = at;
        }

        public void callStarted() {
            if (at >= 0) {
                INT.getAndAdd(buffer, at + IN_FLIGHT, 1);
            }
        }

        public void callEnded() {
            if (at >= 0) {
                INT.getAndAdd(buffer, at + IN_FLIGHT, -1);
            }
        }

        public void loadStarted() {
            if (at >= 0) {
                INT.getAndAdd(buffer, at + LOADING, 1);
            }
        }

        public void loadEnded() {
            if (at >= 0) {
                INT.getAndAdd(buffer, at + LOADING, -1);
            }
        }
    }

    /** Its name in a runtime's data directory. */
    public static final String FILE = "call-journal";

    private static final VarHandle INT = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.nativeOrder());
    private static final int MAGIC = 0x434d4a31; // "CMJ1"
    private static final int RUNNING = 1;
    private static final int CLEAN = 2;
    private static final int HEADER = 64;
    /** Two cache lines: ids busy at once do not share one. */
    private static final int SLOT_SIZE = 128;
    private static final int IN_FLIGHT = 0;
    private static final int LOADING = 4;
    private static final int ID_LENGTH = 8;
    private static final int ID = 12;
    private static final int MAX_ID_BYTES = SLOT_SIZE - ID;
    static final int SLOTS = 1024;

    private final FileChannel channel;
    private final MappedByteBuffer buffer;
    private final List<String> suspects;
    private final Map<String, Slot> slots = new ConcurrentHashMap<>();
    private int used;

    private CallJournal(FileChannel channel, MappedByteBuffer buffer, List<String> suspects) {
        this.channel = channel;
        this.buffer = buffer;
        this.suspects = suspects;
    }

    /** Another process holds the journal: a runtime runs on this data directory. */
    public static final class InUseException extends IOException {
        InUseException(Path file) {
            super("a runtime is running on " + file.toAbsolutePath().getParent() + " (it holds " + file.getFileName()
                    + "): stop it first, or give this one a data directory of its own");
        }
    }

    /**
     * Opens the journal at {@code file}, reads what the last run left there, and starts this run's. The journal is
     * locked for as long as it is open (the lock goes with the process), so one data directory has one runtime.
     *
     * @return the journal, its {@link #suspects()} those of the last run if it did not end cleanly
     * @throws InUseException when another process has it open
     */
    public static CallJournal open(Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        try {
            if (lock(channel) == null) {
                throw new InUseException(file);
            }
            MappedByteBuffer buffer = channel.map(FileChannel.MapMode.READ_WRITE, 0,
                    HEADER + (long) SLOTS * SLOT_SIZE);
            buffer.order(ByteOrder.nativeOrder()); // as the atomic additions write
            List<String> suspects = buffer.getInt(0) == MAGIC && buffer.getInt(4) == RUNNING
                    ? suspects(buffer) : null;
            for (int i = 0; i < buffer.capacity(); i += 8) {
                buffer.putLong(i, 0);
            }
            buffer.putInt(0, MAGIC);
            buffer.putInt(4, RUNNING);
            buffer.putLong(8, ProcessHandle.current().pid());
            buffer.force();
            return new CallJournal(channel, buffer, suspects);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /**
     * Fails when a process has the journal at {@code file} open: a runtime runs on its data directory, so its
     * store must not be changed from outside.
     */
    public static void checkNotInUse(Path file) throws IOException {
        if (!Files.exists(file)) {
            return;
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            if (lock(channel) == null) {
                throw new InUseException(file);
            }
        }
    }

    private static FileLock lock(FileChannel channel) throws IOException {
        try {
            return channel.tryLock();
        } catch (OverlappingFileLockException heldInThisJvm) {
            return null;
        }
    }

    /** True when the last run with this journal ended without closing it: killed, crashed, or halted. */
    public boolean lastRunEndedAbnormally() {
        return suspects != null;
    }

    /**
     * The ids that were loading when the last run ended abnormally, or if none was, those with calls in flight; empty
     * after a clean end.
     */
    public List<String> suspects() {
        return suspects == null ? List.of() : suspects;
    }

    /** The slot of an id, made on first use; {@link Slot#NONE} once every slot is taken. */
    public Slot slot(String id) {
        return slots.computeIfAbsent(id, this::assign);
    }

    private synchronized Slot assign(String id) {
        byte[] name = id.getBytes(StandardCharsets.UTF_8);
        if (used == SLOTS || name.length > MAX_ID_BYTES) {
            return Slot.NONE;
        }
        int at = HEADER + used++ * SLOT_SIZE;
        buffer.put(at + ID, name);
        buffer.putInt(at + ID_LENGTH, name.length);
        return new Slot(buffer, at);
    }

    /** Marks the run as ended cleanly: the next open finds no suspects. */
    @Override
    public void close() throws IOException {
        buffer.putInt(4, CLEAN);
        buffer.force();
        channel.close();
    }

    /** Lets go of the journal as a crash would: it stays marked running (tests of what a crash leaves). */
    void abandon() throws IOException {
        channel.close();
    }

    /**
     * The ids loading when the run ended, if any were: a load that was under way is the likelier cause than the
     * calls of extensions that were serving (a busy one always has some in flight). Else the ids with calls in
     * flight.
     */
    private static List<String> suspects(MappedByteBuffer buffer) {
        List<String> loading = new ArrayList<>();
        List<String> serving = new ArrayList<>();
        for (int at = HEADER; at < buffer.capacity(); at += SLOT_SIZE) {
            int length = buffer.getInt(at + ID_LENGTH);
            if (length <= 0 || length > MAX_ID_BYTES) {
                break;
            }
            byte[] name = new byte[length];
            buffer.get(at + ID, name);
            if (buffer.getInt(at + LOADING) > 0) {
                loading.add(new String(name, StandardCharsets.UTF_8));
            } else if (buffer.getInt(at + IN_FLIGHT) > 0) {
                serving.add(new String(name, StandardCharsets.UTF_8));
            }
        }
        return List.copyOf(loading.isEmpty() ? serving : loading);
    }
}
