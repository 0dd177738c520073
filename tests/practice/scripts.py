"""Scripted agents for every built-in scenario: an empathetic one (written per scenario, as a good
agent would answer each beat) and a poor one (fee first, policy, the safety step ignored)."""

from __future__ import annotations

#: The poor agent, the same on every scenario: a fee first, then policy, then logistics.
POOR = [
    "Just so you know, there's a two hundred nineteen dollar call-out fee. Can I get the account number?",
    "That's our policy, there's nothing I can do about that.",
    "You'll need to hold while I check the system.",
    "As I said, the fee applies either way. What's the address?",
    "I can't change that. Is there anything else?",
    "Okay. Anything else?",
    "Okay.",
    "Okay.",
]

GOOD: dict[str, list[str]] = {
    "christmas_furnace": [
        "Dana, I'm so sorry, you have every right to be frustrated after nobody showed up on Saturday. "
        "That's on us. I'm treating this as urgent and getting someone out to you today.",
        "I can hear how worried you are about your mom, and that makes complete sense. Until we're there, "
        "a space heater in her room is fine, kept three feet from anything that can burn.",
        "Marcus, our on-call technician, is booked for you between ten and noon and you're his first call. "
        "He'll phone thirty minutes before he arrives, and if anything changes I'll call you myself.",
        "Thank you, Dana. I'll check in with Marcus myself at ten. Merry Christmas to you and your mom.",
    ],
    "flooded_basement": [
        "Please stay out of the water and away from the panel, Marcus. I'm treating this as an emergency "
        "and getting our on-call plumber moving right now.",
        "Our emergency plumber is on the way now and will be there within the hour; he'll call you when he's ten "
        "minutes out.",
        "I can hear how scared you are, and that's completely understandable. Once the water is off the damage "
        "stops spreading, and the technician will check the furnace and the floor before anything else.",
        "You did the right thing calling. He's on his way and I'll call you back in twenty minutes to confirm.",
    ],
    "cost_pensioner": [
        "That's a fair question, Ruth, and I don't want any surprises for you on price. I'll make sure you know "
        "every number before anything is done.",
        "I can hear this is worrying, and that makes sense. We can start with the diagnostic only, and you decide "
        "on anything beyond that, and we have a payment plan if it's the tank.",
        "It's safe to leave it for now: turn the water valve on top of the heater off and put a towel down. "
        "The technician will come tomorrow morning and call you before he arrives.",
        "You're very welcome, Ruth. The technician will call you before he comes.",
    ],
    "resigned_fine": [
        "You don't sound completely happy with that, Jordan, and I understand. What would make it easier for you?",
        "That's really frustrating, and I'm sorry you've had to call again. Let me look for an earlier slot or "
        "a cancellation for you right now.",
        "I found a cancellation tomorrow at nine, and I've put you on the list for anything earlier; the "
        "technician will call you before he arrives.",
        "You're welcome, Jordan. I'm glad we found something better.",
    ],
    "jargon_confused": [
        "Let me put that more simply, Priya: the capacitor is a small part that gives the motor a push to "
        "start. What that means for you is the unit just needs that one part.",
        "In other words, it's one small worn part, not the whole system, and the rest of your unit is fine. "
        "Does that make sense, or shall I go over any part again?",
        "That's a fair question, and I don't want any surprises for you on price. The part is a small repair, "
        "and the technician confirms the price before any work starts.",
        "You're welcome. Just so we're on the same page, what other questions do you have?",
    ],
    "co_alarm": [
        "Please get everyone outside into fresh air right now, Elena, and call 911 if anyone has a headache or "
        "feels dizzy. Don't go back in until it's been checked.",
        "Yes. I'm dispatching our emergency technician right now and he'll be there within the hour; I'll stay "
        "on the line with you until you're outside and safe.",
        "I can hear how scared you are, and anyone would be. Getting her out into fresh air was exactly right; "
        "if she seems sleepy or isn't feeding, call 911 and they'll check her.",
        "You did everything right. The technician will call you when he's ten minutes away.",
    ],
    "repeat_supervisor": [
        "Tom, you have every right to be frustrated. This is your third call about the same leak, and I'm "
        "sorry, that's on us. I can get my supervisor for you.",
        "You're right to be sceptical after last time, and I'm sorry. Here's my commitment: a named "
        "technician, a two-hour window, and a call thirty minutes before he arrives.",
        "I'll put it in writing today: the window, the technician's name, and my supervisor Linda's name "
        "and number, and I'll call you myself tomorrow to confirm.",
        "Thank you, Tom. I'll call you tomorrow myself.",
    ],
    "gas_smell": [
        "Luis, please get everyone out of the house now, don't touch any light switches, and call the gas "
        "company's emergency line from outside.",
        "I hear you, this can't wait. I'm dispatching our emergency technician right now; he'll be there "
        "within the hour and will call you on the way.",
        "I can hear how frightened you are, and that's completely understandable. Here's what happens next: "
        "the gas crew makes it safe first, then our technician checks the stove before anyone goes back in.",
        "You did the right thing. Stay outside and they'll call you when they're close.",
    ],
    "sparking_outlet": [
        "Please don't touch it, Grace. If you can get to the breaker panel without going near it, switch "
        "that circuit off, and keep everyone and the cats away from it.",
        "That's a fair thing to worry about. With that circuit off, the rest of the house is safe, and the "
        "electrician will check the wiring in that wall.",
        "That's a fair thing to worry about, and with the breaker off it's safe overnight. I'm booking our "
        "emergency electrician for tonight; he'll be there by nine and call you first.",
        "You're welcome, Grace. He'll call you before he arrives.",
    ],
    "upsell_distrust": [
        "You're right to be sceptical after last time, Helen, that was our failure, and I'm sorry.",
        "That's a fair question, and I don't want any surprises for you on price. The visit is a flat "
        "eighty-nine dollars, and that's all unless you agree to more.",
        "I'll put it in writing: the technician gives you the price before any work starts, and nothing "
        "happens without your OK.",
        "Thank you, Helen. You'll get the booking and the price in writing today.",
    ],
    "routine_tuneup": [
        "Tuesday morning works. I've booked your tune-up for Tuesday between eight and ten, and the "
        "technician will call you before he arrives.",
        "Sorry, that was confusing. In plain words: the plan is a yearly visit you pay monthly, and the "
        "single visit is one tune-up, paid once. Does that make sense?",
        "Perfect. You're booked for the single visit on Tuesday, and you'll get a confirmation by email.",
        "You're welcome, have a good day too.",
    ],
    "baby_no_ac": [
        "Aisha, I hear you, this can't wait with a baby in that heat. I'm treating it as urgent and "
        "dispatching our on-call technician right now.",
        "I can hear how worried you are, and that makes complete sense. Until he's there, keep her in the "
        "coolest room with a fan, light clothes and plenty of feeds.",
        "Yes, he's booked for you today between four and six, and he'll call you thirty minutes before he "
        "arrives. I'll call you back at four to confirm.",
        "You're welcome, Aisha. He'll call you before he arrives.",
    ],
    "sewage_backup": [
        "Kevin, please keep everyone and any pets away from it, stop running water or flushing, and don't "
        "try to clean it up without gloves.",
        "You're right to be sceptical after Tuesday, and I'm sorry, that was our failure. I'm dispatching "
        "our emergency plumber right now.",
        "Here's my commitment: his name is Dave, he'll be there by ten, and he'll call you thirty minutes "
        "before he arrives. If anything slips, I call you.",
        "Thank you, Kevin. Dave will call you before ten.",
    ],
}


def good_reply(scenario_id: str, beat: int, card_say: str | None) -> str:
    """The empathetic agent's reply at `beat`: the card's own `say` when one is up (as an agent who
    reads the card would), then what a good agent adds for that beat in this scenario."""
    written = GOOD[scenario_id]
    own = written[min(beat, len(written) - 1)]
    return f"{card_say} {own}" if card_say else own
