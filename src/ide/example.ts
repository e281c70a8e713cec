/** The operation the IDE opens on: runnable as is, and it shows every field of an answer. */
export const EXAMPLE_QUERY = `# Extractive question answering: the answer is a span of the context.
# Press the run button (or Ctrl-Enter). start/end are UTF-16 offsets into the context.
query Example {
  answer(
    question: "Where is the Eiffel Tower?"
    context: "The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. It is named after the engineer Gustave Eiffel."
  ) {
    text
    score
    start
    end
  }
}
`;
