/// The task executor a call's work prefers: the control connection's event loop for a
/// streaming generation. A task executor preference passes to child tasks but not to `Task {}`,
/// so the unstructured tasks the engine starts for a call (a provider's stream) read it here and
/// stay beside their caller instead of hopping through the global executor for every chunk.
public enum PreferredExecutor {
    @TaskLocal public static var current: (any TaskExecutor)?
}
