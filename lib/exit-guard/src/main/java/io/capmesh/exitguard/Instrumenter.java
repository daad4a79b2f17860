package io.capmesh.exitguard;

import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.lang.instrument.UnmodifiableClassException;
import java.security.ProtectionDomain;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Adds a call to {@link ExitGate#check} at the start of {@code Runtime.exit(int)}, {@code Runtime.halt(int)} and
 * the {@code java.lang.Shutdown} methods behind them, by retransforming those already loaded classes once. The
 * transformer is removed afterwards, so the classes loaded later (and the class data sharing archive's) are not
 * passed through it.
 */
public final class Instrumenter {

    private static final String GATE = ExitGate.class.getName().replace('.', '/');

    /** The guarded methods, by internal class name: method name, and the local slot of its status argument. */
    private static final Map<String, Map<String, Integer>> GUARDED = Map.of(
            "java/lang/Runtime", Map.of("exit", 1, "halt", 1),
            "java/lang/Shutdown", Map.of("exit", 0, "halt", 0));

    private Instrumenter() {
    }

    /**
     * @throws IllegalStateException when a guarded class could not be instrumented (the gate is then not armed)
     */
    public static void instrument(Instrumentation instrumentation) throws ClassNotFoundException,
            UnmodifiableClassException {
        // java.base must read the boot loader's unnamed module, where the gate lives, to link the added calls
        instrumentation.redefineModule(Object.class.getModule(), Set.of(ExitGate.class.getModule()), Map.of(),
                Map.of(), Set.of(), Map.of());
        Set<String> done = ConcurrentHashMap.newKeySet();
        Map<String, Throwable> failed = new ConcurrentHashMap<>();
        ClassFileTransformer transformer = new ClassFileTransformer() {
            @Override
            public byte[] transform(Module module, ClassLoader loader, String className, Class<?> redefined,
                                    ProtectionDomain domain, byte[] classFile) {
                Map<String, Integer> methods = GUARDED.get(className);
                if (methods == null || loader != null) {
                    return null;
                }
                try {
                    byte[] transformed = guard(classFile, className, methods);
                    done.add(className);
                    return transformed;
                } catch (RuntimeException e) {
                    failed.put(className, e);
                    return null;
                }
            }
        };
        instrumentation.addTransformer(transformer, true);
        try {
            instrumentation.retransformClasses(Runtime.class, Class.forName("java.lang.Shutdown"));
        } finally {
            instrumentation.removeTransformer(transformer);
        }
        if (!done.containsAll(GUARDED.keySet())) {
            throw new IllegalStateException("instrumented only " + done + "; failures: " + failed);
        }
        ExitGate.arm();
    }

    private static byte[] guard(byte[] classFile, String className, Map<String, Integer> methods) {
        ClassReader reader = new ClassReader(classFile);
        ClassWriter writer = new ClassWriter(reader, ClassWriter.COMPUTE_MAXS);
        String owner = className.substring(className.lastIndexOf('/') + 1);
        Set<String> guarded = new HashSet<>();
        reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
                                             String[] exceptions) {
                MethodVisitor visitor = super.visitMethod(access, name, descriptor, signature, exceptions);
                Integer statusSlot = methods.get(name);
                if (statusSlot == null || !"(I)V".equals(descriptor)) {
                    return visitor;
                }
                guarded.add(name);
                return new MethodVisitor(Opcodes.ASM9, visitor) {
                    @Override
                    public void visitCode() {
                        super.visitCode();
                        visitLdcInsn(owner + "." + name);
                        visitVarInsn(Opcodes.ILOAD, statusSlot);
                        visitMethodInsn(Opcodes.INVOKESTATIC, GATE, "check", "(Ljava/lang/String;I)V", false);
                    }
                };
            }
        }, 0);
        if (!guarded.equals(methods.keySet())) {
            throw new IllegalStateException(className + " has no " + methods.keySet() + " taking an int status; it"
                    + " had only " + guarded);
        }
        return writer.toByteArray();
    }
}
