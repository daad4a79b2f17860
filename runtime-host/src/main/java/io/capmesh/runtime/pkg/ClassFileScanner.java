package io.capmesh.runtime.pkg;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
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

    /** @throws IOException when the bytes are not a class file */
    public static References scan(byte[] classFile) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(classFile));
        if (in.readInt() != 0xCAFEBABE) {
            throw new IOException("not a class file");
        }
        in.readUnsignedShort(); // minor
        in.readUnsignedShort(); // major
        int count = in.readUnsignedShort();
        String[] utf8 = new String[count];
        int[] classNameIndex = new int[count];
        int[] refClass = new int[count];
        int[] refNameAndType = new int[count];
        int[] nameIndex = new int[count];
        List<Integer> methodRefs = new ArrayList<>();
        for (int i = 1; i < count; i++) {
            int tag = in.readUnsignedByte();
            switch (tag) {
                case 1 -> utf8[i] = in.readUTF();
                case 7 -> classNameIndex[i] = in.readUnsignedShort();
                case 8, 16, 19, 20 -> in.readUnsignedShort();
                case 3, 4 -> in.readInt();
                case 5, 6 -> {
                    in.readLong();
                    i++; // eight-byte constants take two slots
                }
                case 9, 10, 11 -> {
                    refClass[i] = in.readUnsignedShort();
                    refNameAndType[i] = in.readUnsignedShort();
                    if (tag != 9) {
                        methodRefs.add(i);
                    }
                }
                case 12 -> {
                    nameIndex[i] = in.readUnsignedShort();
                    in.readUnsignedShort(); // descriptor
                }
                case 15 -> {
                    in.readUnsignedByte();
                    in.readUnsignedShort();
                }
                case 17, 18 -> in.readInt();
                default -> throw new IOException("unknown constant pool tag " + tag + " at " + i);
            }
        }
        Set<String> classes = new LinkedHashSet<>();
        for (int i = 1; i < count; i++) {
            if (classNameIndex[i] != 0) {
                classes.add(utf8(utf8, classNameIndex[i], i));
            }
        }
        List<MethodRef> methods = new ArrayList<>();
        for (int i : methodRefs) {
            String owner = utf8(utf8, classNameIndex[index(refClass[i], count, i)], i);
            String name = utf8(utf8, nameIndex[index(refNameAndType[i], count, i)], i);
            methods.add(new MethodRef(owner, name));
        }
        return new References(classes, methods);
    }

    /** Indices come from the untrusted bytes: one that points nowhere makes the file malformed, not the scanner fail. */
    private static int index(int index, int count, int at) throws IOException {
        if (index <= 0 || index >= count) {
            throw new IOException("malformed constant pool: entry " + at + " refers to #" + index + " of " + count);
        }
        return index;
    }

    private static String utf8(String[] utf8, int index, int at) throws IOException {
        String value = utf8[index(index, utf8.length, at)];
        if (value == null) {
            throw new IOException("malformed constant pool: entry " + at + " refers to #" + index
                    + ", which is not a UTF-8 constant");
        }
        return value;
    }
}
