/** What the demo page opens with: a context of a few paragraphs and questions about it. */
export const DEMO_CONTEXT = `The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. It is named after the engineer Gustave Eiffel, whose company designed and built the tower from 1887 to 1889.

Locally nicknamed "La dame de fer" (French for "Iron Lady"), it was constructed as the centrepiece of the 1889 World's Fair, and to crown the centennial anniversary of the French Revolution. Although initially criticised by some of France's leading artists and intellectuals for its design, it has since become a global cultural icon of France and one of the most recognisable structures in the world.

The tower received 5,889,000 visitors in 2022. It is 330 metres tall, about the same height as an 81-storey building, and the tallest structure in Paris. Its base is square, measuring 125 metres on each side.`;

export const DEMO_QUESTIONS = ['Where is the Eiffel Tower?', 'Who is it named after?', 'How tall is the tower?'];
