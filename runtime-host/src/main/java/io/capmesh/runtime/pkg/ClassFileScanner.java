package io.capmesh.runtime.pkg;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads the constant pool of a class file: the classes it refers to and the methods it calls. That is enough to
 * name every class an entry class needs and to spot calls that would end the runtime's process, without
 * loading anything.
 */
public final class ClassFileScanner {

    /** A method a class file calls, in internal form: {@code java/lang/System.exit}. */
    public record MethodRef(String owner, String name) {
        @Override
        public String toString() {
            return owner.replace('/', '.') + "." + name;
        }
    }

    /** What a class file refers to. */
    public record References(Set<String> classes, List<MethodRef> methods) {
    }

    private ClassFileScanner() {
    }

    /**
     * Walks the constant pool in place and decodes only the names it answers: generated classes carry large
     * string constants (a gRPC stub's serialized descriptor) that decoding every UTF-8 entry would copy for nothing.
     *
     * @throws IOException when the bytes are not a class file
     */
    public static References scan(byte[] classFile) throws IOException {
        Pool pool = new Pool(classFile);
        if (pool.u4() != 0xCAFEBABE) {
            throw new IOException("not a class file");
        }
        pool.skip(4); // minor, major
        int count = pool.u2();
        int[] utf8At = new int[count]; // where each UTF-8 constant's length field is, else 0
        int[] classNameIndex = new int[count];
        int[] refClass = new int[count];
        int[] refNameAndType = new int[count];
        int[] nameIndex = new int[count];
        List<Integer> methodRefs = new ArrayList<>();
        for (int i = 1; i < count; i++) {
            int tag = pool.u1();
            switch (tag) {
                case 1 -> {
                    utf8At[i] = pool.at;
                    pool.skip(pool.u2());
                }
                case 7 -> classNameIndex[i] = pool.u2();
                case 8, 16, 19, 20 -> pool.skip(2);
                case 3, 4 -> pool.skip(4);
                case 5, 6 -> {
                    pool.skip(8);
                    i++; // eight-byte constants take two slots
                }
                case 9, 10, 11 -> {
                    refClass[i] = pool.u2();
                    refNameAndType[i] = pool.u2();
                    if (tag != 9) {
                        methodRefs.add(i);
                    }
                }
                case 12 -> {
                    nameIndex[i] = pool.u2();
                    pool.skip(2); // descriptor
                }
                case 15 -> pool.skip(3);
                case 17, 18 -> pool.skip(4);
                default -> throw new IOException("unknown constant pool tag " + tag + " at " + i);
            }
        }
        String[] decoded = new String[count];
        Set<String> classes = new LinkedHashSet<>();
        for (int i = 1; i < count; i++) {
            if (classNameIndex[i] != 0) {
                classes.add(utf8(classFile, utf8At, decoded, classNameIndex[i], i));
            }
        }
        List<MethodRef> methods = new ArrayList<>();
        for (int i : methodRefs) {
            String owner = utf8(classFile, utf8At, decoded, classNameIndex[index(refClass[i], count, i)], i);
            String name = utf8(classFile, utf8At, decoded, nameIndex[index(refNameAndType[i], count, i)], i);
            methods.add(new MethodRef(owner, name));
        }
        return new References(classes, methods);
    }

    /** A cursor over the class file's bytes; reading past the end is a malformed file. */
    private static final class Pool {
        private final byte[] bytes;
        int at;

        Pool(byte[] bytes) {
            this.bytes = bytes;
        }

        int u1() throws IOException {
            need(1);
            return bytes[at++] & 0xFF;
        }

        int u2() throws IOException {
            need(2);
            int value = (bytes[at] & 0xFF) << 8 | bytes[at + 1] & 0xFF;
            at += 2;
            return value;
        }

        int u4() throws IOException {
            return u2() << 16 | u2();
        }

        void skip(int n) throws IOException {
            need(n);
            at += n;
        }

        private void need(int n) throws IOException {
            if (bytes.length - at < n) {
                throw new EOFException("the class file ends inside its constant pool");
            }
        }
    }

    /** Indices come from the untrusted bytes: one that points nowhere makes the file malformed, not the scanner fail. */
    private static int index(int index, int count, int at) throws IOException {
        if (index <= 0 || index >= count) {
            throw new IOException("malformed constant pool: entry " + at + " refers to #" + index + " of " + count);
        }
        return index;
    }

    private static String utf8(byte[] classFile, int[] utf8At, String[] decoded, int index, int at)
            throws IOException {
        int i = index(index, utf8At.length, at);
        if (decoded[i] == null) {
            if (utf8At[i] == 0) {
                throw new IOException("malformed constant pool: entry " + at + " refers to #" + index
                        + ", which is not a UTF-8 constant");
            }
            int start = utf8At[i] + 2;
            int length = (classFile[start - 2] & 0xFF) << 8 | classFile[start - 1] & 0xFF;
            decoded[i] = ascii(classFile, start, length)
                    ? new String(classFile, start, length, StandardCharsets.ISO_8859_1)
                    : new DataInputStream(new ByteArrayInputStream(classFile, start - 2, length + 2)).readUTF();
        }
        return decoded[i];
    }

    /** Names are nearly always ASCII, which reads the same in modified UTF-8 and Latin-1 (NUL aside). */
    private static boolean ascii(byte[] bytes, int start, int length) {
        for (int i = start; i < start + length; i++) {
            if (bytes[i] <= 0) {
                return false;
            }
        }
        return true;
    }
}
