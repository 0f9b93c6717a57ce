// Predict tab, before each prediction (an event's `js`, given the event's input values): in a narrow window,
// where the inputs sit above the results, bring the summary card into view; the values pass on unchanged.
(...values) => {
  if (window.innerWidth <= 1000) {
    const card = document.querySelector('#predict-summary');
    if (card) card.scrollIntoView({block: 'start', behavior: 'smooth'});
  }
  return values;
}
