package io.capmesh.runtime.isolation;

/**
 * Where an isolated extension's child JVM stands, for ListExtensions and Describe.
 *
 * @param state    serving, restarting (calls get UNAVAILABLE) or stopped
 * @param pid      the serving child's process id; when not serving, the last child's
 * @param restarts children started after the first
 * @param lastExit the last child that ended unasked, or null
 * @param maxHeap  the child's {@code -Xmx}
 */
public record ChildStatus(State state, long pid, int restarts, ChildExit lastExit, String maxHeap) {

    public enum State { SERVING, RESTARTING, STOPPED }
}
