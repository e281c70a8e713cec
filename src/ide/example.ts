/** The operation the IDE opens on: runnable as is, and it shows every field of an answer. */
export const EXAMPLE_QUERY = `# The answer is a span of the context; start/end are
# UTF-16 offsets into it. Run with ▶ or Ctrl-Enter.
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
