"""The sentence templates and plots of the story generator in `lmcourse.corpus`.

All text here was written for this project; the words that fill the templates are in
`lmcourse.corpus.lexicon`. Templates are `str.format_map` strings over fields that `grammar._FIELDS`
computes the first time a template asks for them: the hero (`name he He him his His self was wasnt kid
a_hero age act acted acting`), the friend (`friend fhe fhim`), more children (`sib sibhe sibling kid3`),
the grown-up at home (`parent Parent phe a_job job_did`), grown-ups with a title (`neighbor nhis teacher
adult`), things, animals, food, places, colors, sounds, made-up names (`town street petname cname
spell land species`) and numbers, some of which must add up (`n k left`, `price paid change`, `c1 c2
c3`, `guests per balloons`). A field starting with `a_` carries its article ("an old hedgehog").
"{He} {was}" agrees with the pronoun; after a name the verb is always singular ("Sam was"). A slot is
a tuple of alternatives, picked uniformly; an empty alternative means "say nothing here", and
repeating one makes it likelier.
"""

from __future__ import annotations

from lmcourse.corpus.lexicon import _items

PRONOUNS = {
    "she": dict(he="she", He="She", him="her", his="her", His="Her", self="herself", was="was",
                wasnt="wasn't", kid="girl"),
    "he": dict(he="he", He="He", him="him", his="his", His="His", self="himself", was="was",
               wasnt="wasn't", kid="boy"),
    "they": dict(he="they", He="They", him="them", his="their", His="Their", self="themselves",
                 was="were", wasnt="weren't", kid="kid"),
}
SIBLINGS = {"she": "sister", "he": "brother", "they": "sibling"}
PARENTS = (("mom", "she"), ("dad", "he"), ("grandma", "she"), ("grandpa", "he"))
# No weather here: "One windy day" would contradict a plot that needs "no wind" (see SETTING).
WHEN = _items("""One day, One sunny morning, Early one morning, One afternoon, On Saturday, After lunch, After school,
On Sunday, One bright morning, Late one afternoon, The next week, On the first day of the holidays, One Tuesday,
On Friday evening, One spring morning, One summer evening, Last Thursday, One autumn day, On a Monday in May,
One Wednesday after school, The day before the holidays, One morning in June""")
HOMES = _items("""in a small house near the sea, in a yellow house on a hill,
in a cozy house at the edge of the woods, in a busy city, in a little cottage by the river, on a big farm,
in a tall apartment building, in a tree house, in a quiet village, in a blue house with a red door,
in a burrow under an old oak, in a little house in {town}, in a flat above a bakery, in a narrow house on {street},
in a houseboat on the canal, in a white house at number {house} {street}, in a cabin in the mountains,
in a green house next to the school, in a crooked little house full of books""")
CAFE_TREATS = _items("""a cup of hot cocoa, a slice of apple pie, a warm croissant, a bowl of soup,
a glass of lemonade, a little crème caramel, a cinnamon roll, a cheese sandwich, a mug of warm milk,
a piece of honey cake, a bowl of {bowl}, a glass of {drink}, a slice of {cake} cake, a warm {food} with {topping}""")
OLD_COLLECTIONS = _items("""stickers, stamps, marbles, buttons, bottle caps, postcards, coins, toy cars, keys, badges,
trading cards, erasers, beads, comic books, thimbles, spoons, keychains, pins, picture cards, tin soldiers,
matchbox cars""")
NATURE_COLLECTIONS = _items("shells, pebbles, leaves, feathers, pine cones, rocks, acorns, fossils, crystals, conkers")
BOXES = _items("a shoebox, a glass jar, an old tin, a cookie jar, a wooden box, a big basket, a blue suitcase")

# --- story pieces shared by several plots ---------------------------------------------------------------
OPENING = (
    "Once upon a time, there was {a_hero} named {name}.",
    "Once upon a time, in a town called {town}, there lived {a_hero} named {name}.",
    "Once upon a time, in a village called {town}, there lived {a_hero} named {name}.",
    "There once was {a_hero} called {name}. {He} lived {home}.", "{name} was {a_hero} who lived {home}.",
    "Once upon a time, there was {a_hero}. {His} name was {name}.",
    "In the little town of {town}, there lived {a_hero} named {name}.",
    "{name} was {a_hero}. {He} lived {home} with {his} {parent}.",
)
INTRO = (
    ("", "{He} {was} {age} years old.", "{name} was {age} years old.", "{name} was {age} and a half."),
    ("", "{He} loved to {act}.", "Every day, {he} liked to {act} with {his} friend {friend}.",
     "{His} favorite thing in the world was to {act}.", "{He} loved {acting} more than anything."),
    ("", "", "{He} lived with {his} {parent} and {a_pet} named {petname}.",
     "{He} had {a_pet} named {petname}, who followed {him} everywhere.",
     "{His} {sibling}, {sib}, was {age2}, and {sibhe} liked to {act2}.",
     "{His} aunt lived far away in {city} and sent {him} a postcard every month.",
     "{His} cousin {sib} lived in {town2}, and they talked on the phone every Sunday.",
     "{His} best friends were {friend} and {kid3}."),
    ("", "", "{His} {parent} was {a_job}. Every day, {phe} {job_did}.",
     "{He} always wore {his} {color} {clothing}, even when it was {weather}.",
     "For breakfast, {he} always had {bowl} and a glass of {drink}.",
     "Next door lived {neighbor}, who had {pets_count} {pets} and a garden full of {flowers}.",
     "{His} favorite book was about {a_being} named {cname}. It had {pages} pages.",
     "{His} teacher, {teacher}, said {he} {was} the best at {acting} in the whole class.",
     "{He} lived at number {house} {street}, across the road from {neighbor}.",
     "{He} lived in {town}, a small town with only {people} people.",
     "{His} house was built in {year}, and its floors creaked."),
)
# Small things that happen on the way, for paragraphs set outdoors.
DETAIL = ("", "", "", "", "", "Somewhere nearby, {a_critter} made a tiny {sound}.",
          "{neighbor} waved from {nhis} garden.", "The number {busno} bus rumbled past.",
          "A little {critter} {moved} across the path.",
          "In the distance, someone was playing the {instrument}.", "The air smelled of {foods2} and {flowers}.",
          "Far away, {a_colored} kite danced in the sky.", "They passed {surname}'s bakery, which smelled of {foods2}.",
          "A signpost by the road said: {town2}, {miles} miles.", "{kid3} from down the street waved hello.",
          "Up in the sky, a cloud looked just like {a_beast}.",
          "{He} found {a_nature} on the path and put it in {his} pocket.", "{He} stopped to smell {a_flower}.",
          "Tall {trees} lined the path.", "A flock of {count} geese flew over, honking.",
          "A sign said that the old {tree} by the gate was planted in {year}.")
SETTING = ("", "", "The sun was shining, and the birds were singing.", "The sky was blue, and a soft wind blew.",
           "The air smelled of flowers and fresh grass.", "Big white clouds floated across the sky.",
           "The {flowers} were blooming, and bees buzzed from one to the next.",
           "Under the old {tree}, the grass was cool and green.")
MORAL = ("", "", "{name} learned that {moral}.", "From that day on, {name} knew that {moral}.",
         "And so {name} learned something important: {moral}.")
ENDING = ("", "", "The end.", "It was the best day ever.", "{name} smiled. It had been a wonderful day.",
          "And they all lived happily ever after.", "That night, {name} fell asleep with a big smile.",
          "That night, {name} dreamed of {beings} and {species}.",
          "The next day, {name} told {kid3} and {kid4} all about it.",
          "Before bed, {name} read {his} book about {a_being} named {cname} one more time.")

# --- plots: each is the rows it picks one of (fields filled together so they fit each other), its morals,
# and its paragraphs (tuples of slots; a str slot is a single template).
WANT = dict(
    fields=("goal", "obstacle", "success"),
    rows=(
        ("climb the big hill behind {his} house", "But the hill was steep, and {his} legs got tired halfway up.",
         "{friend} held {his} hand, and they climbed together, one step at a time. "
         "At the top, they could see the whole town. They had climbed {steps} steps!"),
        ("fly a kite", "But there was no wind, and the kite kept falling down.",
         "They waited on the hill until a strong wind came. Then the kite went up, up, up, high into the sky."),
        ("learn to swim", "But the water was cold, and {he} {was} scared of the deep end.",
         "{friend} showed {him} how to kick and move {his} arms. Soon {name} could swim all the way across the pool."),
        ("bake a cake for {his} {parent}", "But the first cake came out flat and burnt.",
         "They read the recipe again, used two eggs instead of one, and watched the oven closely. "
         "This time the cake was tall and soft."),
        ("build the tallest tower of blocks", "But every time the tower got big, it fell down with a crash.",
         "{friend} said, \"Put the big blocks at the bottom.\" The new tower stood tall and did not fall."),
        ("find the end of the rainbow", "But the rainbow kept moving away.",
         "They never found the end of the rainbow, but they found a field full of flowers of every color."),
        ("ride a bike without help", "But {he} wobbled and fell on the grass again and again.",
         "{friend} ran next to {him} and held the seat, and then let go. "
         "{name} rode all the way down the street by {self}!"),
        ("grow a sunflower", "But for many days, nothing came out of the ground.",
         "Every morning they gave the seed some water. "
         "One day a little green leaf came up, and by summer the sunflower was taller than {name}."),
        ("see a shooting star", "But every night, {he} fell asleep before any star fell.",
         "They took a blanket to the hill and stayed awake together. "
         "Late in the night, a bright star shot across the sky."),
        ("win the race at school", "But the other kids were very fast.",
         "{name} practiced every day with {friend}. "
         "On the day of the race, {he} ran faster than ever before and came in first."),
        ("sing in the school show", "But {he} {was} too shy to sing in front of so many people.",
         "{friend} stood next to {him} on the stage, and they sang the song together. Everyone clapped and cheered."),
        ("catch a fish in the pond", "But the fish swam away every time.",
         "{friend} said, \"Sit very still and be patient.\" "
         "After a long wait, {name} caught a little silver fish, looked at it, and let it go."),
        ("make a big snowman", "But the snow was too dry, and the balls fell apart.",
         "They waited until the sun made the snow wet and sticky. "
         "Then they rolled three big balls and made the best snowman in town."),
        ("read a whole book by {self}", "But some of the words were long and hard.",
         "{friend} helped {him} sound out the hard words, one letter at a time. "
         "After a week, {name} read the last page all by {self}."),
        ("cross the river to the other side", "But the river was wide, and there was no bridge.",
         "They found big flat stones and put them in a line across the water. "
         "Then they hopped from stone to stone to the other side."),
        ("learn to play the {instrument}", "But every note {he} played sounded like a squeaky door.",
         "{friend} showed {him} how to practice slowly, a little every day. "
         "After a month, {name} played a whole song, and {his} {parent} clapped and clapped."),
        ("grow the biggest pumpkin in {town}", "But the first pumpkin was eaten by a hungry {animal}.",
         "They planted a new seed and built a little fence around it. "
         "By autumn, the pumpkin was so big that it took three people to lift it."),
        ("reach the cookie jar on the top shelf", "But the shelf was much too high.",
         "{friend} had an idea: they asked {his} {parent} for help. {Parent} laughed and gave them each two cookies."),
    ),
    moral=("you should never give up", "it is okay to ask for help", "friends can do hard things together",
           "trying again is how we learn", "hard things get easier with practice"),
    story=(
        (OPENING,) + INTRO,
        (("{When}, {name} wanted to {goal}.", "{name} had a big dream. {He} wanted to {goal}.",
          "{When}, {name} decided that {he} would {goal}.", "More than anything, {name} wanted to {goal}."),
         "{obstacle}",
         ("{name} tried again and again, but it didn't work.", "{name} felt {sad}.", "",
          "{He} didn't know what to do.", "{He} sat down and sighed.")),
        (("\"What's wrong?\" asked {friend}.\n\"I want to do it so much, but I can't,\" said {name}.\n"
          "\"Don't worry. I'll help you!\" said {friend}.",
          "{friend} saw that {name} was {sad}. \"Why are you {sad}?\" {fhe} asked.\n\"It's too hard,\" {name} said.\n"
          "\"Let's try together,\" said {friend}. \"Two heads are better than one!\"",
          "{name} went to see {his} friend {friend}. \"Can you help me? I've tried and tried, but I can't do it.\"\n"
          "\"Of course I'll help,\" said {friend}. \"That's what friends are for.\""),),
        ("{success}",
         ("\"We did it!{emo}\" {cheered} {name}.", "{name} felt so {happy}.", "",
          "\"Thank you, {friend}!\" said {name}. \"You're the best friend ever.\"")),
        (MORAL, ENDING),
    ),
)
LOST = dict(
    fields=(),
    rows=((),),
    moral=("it helps to stay calm and think", "it is good to put things back where they belong",
           "friends help each other", "looking carefully is better than worrying"),
    story=(
        (OPENING, INTRO[0],
         ("{name} had {a_thing}. {He} took it everywhere.", "{name} had {a_thing} called {toyname}.",
          "{His} favorite toy was {a_thing}. {He} loved it very much.",
          "{His} {parent} gave {him} {a_thing} for {his} birthday, and {he} loved it more than anything.")),
        (("{When}, {name} could not find {his} {thing}.", "One morning, {name} woke up, and {his} {thing} was gone!",
          "{When}, {name} wanted to play with {his} {thing}, but it wasn't there."),
         ("{He} looked {spot1}. {He} looked {spot2}. But the {thing} wasn't there.",
          "{He} looked {spot1}. There {he} found {a_object} and an old sock, but no {thing}.",
          "{He} looked {spot1} and {spot2}, but {he} couldn't find it anywhere."),
         ("{name} felt {sad}.", "{name} started to cry.", "")),
        (("\"Have you seen my {thing}?\" {name} asked {his} {parent}.\n\"No, I haven't,\" said {Parent}. "
          "\"Where did you play with it last?\"\n{name} thought hard. \"I think I had it {spot3},\" {he} said.",
          "{name} asked {friend} for help. \"My {thing} is lost!\" {he} said.\n"
          "\"Don't worry, we'll find it,\" said {friend}. \"Let's look {spot3}.\""),),
        (("{name} looked {spot3}, and there it was!", "They looked {spot3}, and there was the {thing}!",
          "Just then, {name} heard a noise. It was {his} {pet}, and it had the {thing} in its mouth!"),
         ("{He} hugged the {thing} tight.", "\"I'll never lose you again,\" {name} said to the {thing}.",
          "\"Thank you!{emo}\" said {name}.", "{name} felt {happy}.")),
        (MORAL, ENDING),
    ),
)
HELP = dict(
    fields=("trouble", "rescue"),
    rows=(
        ("The {animal} was stuck high up in a tree.",
         "{name} found a long branch and held it up, and the {animal} climbed down slowly."),
        ("The {animal} had hurt its leg.",
         "{name} and {his} {parent} took it home and wrapped its leg in a soft cloth. "
         "After a few days, it could walk again."),
        ("The {animal} was lost and could not find its family.",
         "{name} carried it gently and looked all around. At last they found its family waiting by an old tree."),
        ("The {animal} was cold and shivering.",
         "{name} wrapped it in {his} scarf and held it close until it stopped shivering."),
        ("The {animal} was very hungry.", "{name} shared {his} {food} with it. The {animal} ate every bit."),
        ("The {animal} was caught in an old net.",
         "{name} pulled the net open, very carefully, one knot at a time, until the {animal} was free."),
        ("The {animal} had fallen into a deep hole.",
         "{name} lay down on the grass, reached in with both hands, and lifted the {animal} out."),
    ),
    moral=("it is good to be kind to animals", "even a small friend can need big help",
           "helping others makes you feel good too"),
    story=(
        (OPENING,) + INTRO,
        (("{When}, {name} went to the {place}.", "{name} was walking in the {place} with {his} {parent}.",
          "{When}, {name} was playing in the {place_adj} {place}."),
         SETTING,
         DETAIL,
         ("{He} heard a small sound.", "Suddenly, {he} heard a little cry.",
          "{He} heard a strange {sound} behind a bush.",
          "Near a big rock, {he} saw something move."),
         ("It was {a_animal}!", "It was {a_animal}."),
         "{trouble}"),
        (("\"Don't be scared, little {animal},\" {name} said {adv}. \"I'm here to help.\"",
          "\"Oh no! Are you okay?\" {name} asked.\nThe {animal} looked at {him} with big, sad eyes.",
          "\"Look, {Parent}!\" {name} called. "
          "\"The {animal} needs help!\"\n\"Let's help it together,\" said {Parent}."),
         "{rescue}"),
        (("The {animal} was so happy. It licked {his} hand.", "The {animal} did a little dance to say thank you.",
          "After that, the {animal} came to visit {name} every day.",
          "The {animal} rubbed its head on {his} arm.{emo}"),
         ("{name} felt {happy}.", "")),
        (MORAL, ENDING),
    ),
)
SHARE = dict(
    fields=(),
    rows=((),),
    moral=("sharing is more fun than fighting", "taking turns makes everyone happy",
           "a friend is worth more than a toy"),
    story=(
        (("{name} and {friend} were best friends.", "{name} and {friend} lived next door to each other.",
          "{name} had a friend named {friend}. They played together every day."),
         ("", "{name} was {age}, and {friend} was {age2}.")),
        (("{When}, they found {a_thing} in the {place}.", "{When}, {friend} brought {a_thing} to the {place}.",
          "{When}, {name}'s {parent} gave them {a_thing}.",
          "{When}, {neighbor} gave them {a_thing} from {nhis} attic."),
         ("Both of them wanted to play with it.", "They both wanted it at the same time.")),
        (("\"It's mine!\" shouted {name}.\n\"No, it's mine!\" shouted {friend}.",
          "\"I saw it first!\" said {name}.\n\"No, I did!\" said {friend}."),
         ("", "", "{kid3} and {kid4} stopped to watch."),
         ("They pulled and pulled, and the {thing} fell into a puddle of mud.",
          "They pulled so hard that they both fell down.",
          "They stopped talking to each other, and the afternoon was long and boring."),
         ("Soon they both felt {sad}.", "Now nobody was having any fun.")),
        (("{name}'s {parent} came over. \"Why don't you take turns?\" {phe} said.",
          "{name} thought for a moment. \"What if we play with it together?\" {he} asked.\n{friend} smiled. \"Okay!\""),
         ("So they did. First {name} played with the {thing}, and then {friend} had a turn.",
          "They took turns, and it was much more fun."),
         ("They {acted} together until it got dark.", "Later they {acted} together.", "")),
        (MORAL, ENDING),
    ),
)
TRIP = dict(
    fields=("trip", "sights"),
    rows=(
        ("market", "There were stalls full of {foods} and {foods2}, and a man selling balloons."),
        ("farm", "{He} saw {animals}, a big red barn and a tractor."),
        ("zoo", "{He} saw {animals} and {animals2}, and a keeper named {adult} gave {him} a map."),
        ("beach", "The waves were big, and {he} saw {animals} near the rocks."),
        ("fair", "There were rides, music, and a tent with {animals} in it."),
        ("fair", "There was a game: guess how many jellybeans were in a big jar. The answer was {count}!"),
        ("aquarium", "{He} saw {animals2} swimming behind the glass, and a tank with {count} little fish in it."),
        ("{trip_any}", "There was so much to see! Someone was playing the {instrument}, and a stall sold {foods2}."),
        ("{trip_any}", "It was busy and loud, and it smelled of {foods} and {flowers}."),
    ),
    moral=("sharing makes everyone happy", "a simple day can be the best day"),
    story=(
        (OPENING, INTRO[0]),
        (("{When}, {name} went to the {trip} with {his} {parent}.",
          "{When}, {name} and {his} {parent} took the {vehicle} to the {trip}.",
          "At {time}, {name} and {his} {parent} set off for the {trip}."),
         SETTING,
         "{sights}",
         DETAIL,
         ("They stopped at a little café, and {name} had {cafe}.", "",
          "At the café, {name} had {cafe}, and {Parent} had a cup of coffee.")),
        (("{Parent} gave {name} {n} {foods}.", "{name} got {n} {foods} from {his} {parent}."),
         ("On the way home, {he} gave {k} to {friend}.", "Then {he} met {friend} and shared {k} with {fhim}."),
         ("Now {he} had {left} {foods} left.",
          "\"How many do you have now?\" asked {Parent}.\n\"{Left}!\" said {name}.")),
        (("Then dark clouds came, and it started to rain. They ran home laughing.",
          "On the way home, they saw a rainbow over the {place}.{emo}", ""),
         ("That night, {name} told {his} friends all about the {trip}.", "{name} felt {happy}.")),
        (MORAL, ENDING),
    ),
)
FEAR = dict(
    fields=("fear", "scary", "comfort", "brave"),
    rows=(
        ("the dark", "Every night, when the lights went off, {he} saw shapes in the corners of {his} room.",
         "The dark is just your room with the lights asleep.",
         "{name} looked at the shapes again. One was {his} coat, and one was {his} chair. "
         "{He} laughed and went to sleep."),
        ("thunder", "When a storm came, the loud booms made {him} hide under the blanket.",
         "Thunder is only the sky clapping its big hands.",
         "The next time the thunder came, {name} clapped back, and it didn't seem so scary anymore."),
        ("the big dog next door", "The dog barked every time {he} walked past the fence.",
         "He barks because he wants to say hello.",
         "The next day, {name} said hello to the dog. The dog wagged its tail and licked {his} hand."),
        ("the first day of school", "{He} didn't know anyone there, and the building looked so big.",
         "Everyone feels a little scared on the first day. By lunch, you'll have a new friend.",
         "At school, a kid named {friend} sat next to {name}. By lunch, they were friends."),
        ("the vacuum cleaner", "Its loud roar made {him} run and hide behind the sofa.",
         "It is only hungry for dust and crumbs, not for children.",
         "{name} pushed the vacuum cleaner {self}. It tickled {his} hands, and {he} laughed."),
        ("going to the doctor", "{He} thought the doctor might hurt.",
         "The doctor helps people feel better. I'll hold your hand the whole time.",
         "The doctor, Dr. {surname}, was kind and funny, and gave {name} a sticker shaped like a star."),
        ("the deep water at the lake", "{He} stayed on the sand while the others splashed and swam.",
         "We'll go in slowly, and you can hold on to me.",
         "Step by step, {name} walked into the water. It was cool and nice, and soon {he} {was} splashing too."),
    ),
    moral=("being brave doesn't mean you are never scared", "talking about a fear makes it smaller",
           "things are often less scary than they seem"),
    story=(
        (OPENING,) + INTRO,
        ("{name} was afraid of {fear}.", "{scary}"),
        (("\"I'm scared,\" {name} whispered to {his} {parent}.\n\"It's okay to be scared,\" said {Parent}. "
          "\"{comfort}\"",
          "{name} told {his} {parent}, \"I don't like {fear}.\"\n{Parent} gave {name} a big hug. \"{comfort}\""),),
        ("{brave}", ("{name} felt {happy}.", "", "\"I'm not scared anymore!{emo}\" {name} said.")),
        (MORAL, ENDING),
    ),
)
MESS = dict(
    fields=("accident", "confession", "fix"),
    rows=(
        ("{name} threw {his} ball too high, and it hit the blue vase on the table. "
         "The vase fell and broke into three pieces.", "I broke the blue vase",
         "Together they glued the pieces back, and the vase stood on the table again, "
         "with thin lines where the cracks were."),
        ("{name} was so hungry that {he} ate all the cookies {his} {parent} had baked for the neighbors.",
         "I ate all the cookies", "They baked a new batch together, and {name} carried the warm plate next door."),
        ("{name} was running in the hall and bumped into the wall. "
         "The painting of the sea fell down, and its frame cracked.", "I knocked down the painting",
         "They fixed the frame with glue and two tiny nails and hung the painting back up."),
        ("{name} forgot to water {his} {parent}'s little plant for a whole week, and its leaves turned brown.",
         "I forgot to water your plant",
         "They gave it water and put it in the sun. After a few days, a new green leaf came out."),
        ("{name} wore {his} {parent}'s red sweater to play in the mud, and now it was dirty and torn.",
         "I got your sweater dirty", "They washed it and sewed up the hole, and the sweater looked almost like new."),
        ("{name} drew on the kitchen wall with a purple crayon. It looked like a big purple cat.",
         "I drew on the wall",
         "They washed the wall together, and then {Parent} gave {name} a big roll of paper to draw on."),
        ("{name} let {petname} into the kitchen, and the {pet} knocked a bowl of {bowl} onto the floor.",
         "I let {petname} in", "They cleaned the floor together, and {petname} helped by licking up the last bits."),
        ("{name} borrowed {neighbor}'s {object} without asking and lost it in the {place}.",
         "I took the {object} without asking",
         "They searched the {place} together until they found it, and {name} carried it back to {neighbor}."),
    ),
    moral=("telling the truth is always best", "everyone makes mistakes, and saying sorry helps",
           "it is better to be honest than to hide"),
    story=(
        (OPENING,) + INTRO,
        ("{accident}", ("{name} felt {sad}.", "{name}'s heart beat fast."),
         ("{He} thought about hiding it.", "Maybe nobody will notice, {he} thought.", "{He} wanted to run and hide.")),
        (("\"{Parent}, I have to tell you something,\" {name} said quietly. \"{confession}. I'm sorry.\"\n"
          "{Parent} was quiet for a moment. Then {phe} smiled. \"Thank you for telling me the truth,\" {phe} said.",
          "\"What happened here?\" asked {Parent}.\n{name} looked at the floor. \"It was me. "
          "{confession},\" {he} said. "
          "\"I didn't mean to.\"\n{Parent} gave {name} a hug. \"Everyone makes mistakes. I'm glad you told me.\""),),
        ("{fix}", ("{name} felt {happy}.", "", "\"I'm glad I told the truth,{emo}\" {name} said.")),
        (MORAL, ENDING),
    ),
)
MAGIC = dict(
    fields=("magic", "power", "adventure"),
    rows=(
        ("stone", "Whenever {name} held it, {he} could understand what the animals said.",
         "A little {animal} told {him} that the old oak tree was sad because nobody sat under it anymore. "
         "So {name} brought {his} friends, and they had a picnic in its shade."),
        ("key", "It opened a tiny door at the bottom of the garden wall that nobody had ever seen before.",
         "Behind the door was a garden where the flowers sang and the {animals} could talk. "
         "{name} played there all afternoon and came home just in time for dinner."),
        ("shell", "When {name} held it to {his} ear, it whispered the way to a hidden treasure.",
         "{name} and {friend} followed the whispers to the beach and dug in the sand. "
         "The treasure was a box of old coins, and they gave it to the museum in {town}."),
        ("feather", "When {name} held it, {he} floated up into the air like a balloon.",
         "{He} flew over the {place} and the rooftops of {town}. Far below, the people looked like tiny ants. "
         "When the sun went down, {he} floated gently home."),
        ("pencil", "Everything {name} drew with it came to life.",
         "{He} drew a little {animal}, and it hopped right off the page! "
         "Then {he} drew a cake, and the cake was real and sweet."),
        ("coin", "It could grant one wish.",
         "{name} thought about wishing for a mountain of toys. But then {he} remembered that {friend} was sick, "
         "so {he} wished for {friend} to feel better. The next day, {friend} was well again."),
    ),
    moral=("kindness is the best magic", "the best wishes are for others", "wonder is all around us"),
    story=(
        (OPENING,) + INTRO,
        (("{When}, {name} found {a_magic_adj} {magic} {spot1}.",
          "{When}, while {he} {was} playing in the {place}, {name} saw {a_magic_adj} {magic} in the grass."),
         ("It was warm, and it hummed softly.", "It sparkled in the sun.", ""),
         "{power}"),
        (("\"Wow! It's magic!{emo}\" {name} whispered.",
          "{name} said the first word that came into {his} head: \"{spell}!\"",
          "\"{friend}, come and see!\" {name} shouted.\n{friend} ran over. "
          "\"I've never seen anything like it!\" {fhe} {said}."),
         "{adventure}"),
        (("From then on, {name} kept the {magic} in a safe place.",
          "The next morning, the {magic} was gone. But {name} never forgot it.",
          "{friend}'s grandpa said the {magic} had been made in {year}.",
          "{name} never told anyone about the {magic}, except {friend}."),),
        (MORAL, ENDING),
    ),
)
BIRTHDAY = dict(
    fields=("mishap", "fix"),
    rows=(
        ("Just as {Parent} carried the cake out, {phe} tripped over a toy, and the cake landed upside down.",
         "So everyone made pancakes together instead, and {name} said they were the best birthday pancakes ever."),
        ("Then it started to rain, and the party in the garden got all wet.",
         "They carried everything inside and had a picnic on the living room floor."),
        ("But {friend} was sick and could not come.",
         "So the next day, {name} took a big piece of cake to {friend}'s house, and they ate it together."),
        ("Then a gust of wind pulled the balloons away over the roofs of {town}.",
         "{name} laughed and waved. \"Maybe they will fly to another birthday,\" {he} said."),
        ("Then {petname} jumped onto the table and licked the icing off the cake.",
         "Everyone laughed so hard that nobody minded, and {Parent} cut the cake from the other side."),
    ),
    moral=("a party is about the people, not the cake", "the best presents are friends",
           "a day can go wrong and still be wonderful"),
    story=(
        (OPENING,) + INTRO[1:3],
        (("{name} woke up early and jumped out of bed. It was {his} {bth} birthday!{emo}",
          "It was {name}'s birthday at last. {He} {was} turning {bage}."),
         ("{Parent} baked {a_cake} cake with {bage} candles on top.",
          "On the table was a big {cake} cake with {bage} candles.")),
        (("{guests} friends came to the party, and each one brought {per} balloons. "
          "That made {balloons} balloons in all!",
          "{guests} friends came, and they played games until everyone was out of breath."),
         ("Among them were {kid3} and {kid4}.", "{kid3} came, and so did {kid4} and {kid5}.", ""),
         ("{friend} gave {name} {a_thing}, wrapped in {color} paper.",
          "{friend} gave {name} a card with {a_being} on it.",
          "")),
        ("{mishap}", "{fix}", ("\"This is my best birthday ever!\" {cheered} {name}.", "{name} felt {happy}.")),
        (MORAL, ENDING),
    ),
)
SHOP = dict(
    fields=("shop",),
    rows=(("{surname}'s Toy Shop",), ("the toy shop on {street}",), ("the little shop on the corner",),
          ("{surname}'s store",), ("the market in {town}",)),
    moral=("saving a little at a time adds up", "it feels good to buy something with money you saved",
           "counting carefully is always worth it"),
    story=(
        (OPENING,) + INTRO,
        (("{When}, {name} saw {a_thing} in the window of {shop}.",
          "{When}, {name} and {his} {parent} walked past {shop}, and {name} saw {a_thing}."),
         ("A little sign said {price}.", "It cost {price}."),
         ("{name} had {paid} in {his} piggy bank.", "{name} had saved {paid} by helping {neighbor} in the garden.")),
        (("\"Is it enough?\" {name} asked.\n{Parent} counted with {him}. \"Yes, and some will be left,\" {phe} said.",
          "{name} counted {his} money slowly, twice, to be sure."),
         ("{name} paid {paid} for the {thing}, and the shopkeeper gave {him} {change} back.",
          "{name} paid {paid} for the {thing}, and the shopkeeper, {adult}, gave {him} {change} back."),
         ("{He} put the change back in {his} piggy bank.", "With the change, {he} bought {a_food} for {friend}.", "")),
        (("{He} carried the {thing} home very carefully.", "{He} played with the {thing} all afternoon."),
         ("{name} felt {happy}.", "", "\"Saving was worth it,\" {name} said.")),
        (MORAL, ENDING),
    ),
)
COLLECT = dict(
    fields=("collection", "treasure"),
    rows=(
        ("{old_collection}", "The oldest one was from {year}."),
        ("{old_collection}", "{His} favorite was {a_colored} one that {his} grandpa had found in {year}."),
        ("{nature_collection}", "{His} favorite was {a_colored} one from the {place}."),
        ("{nature_collection}",
         "{His} favorite was the {biggest} one, which {he} had found on the {ordinal} day of summer."),
    ),
    moral=("little things add up to big things", "it is more fun to share a hobby with a friend",
           "taking care of your things is worth it"),
    story=(
        (OPENING, INTRO[0], ("{name} collected {collection}.", "{name} loved to collect {collection}."),
         ("{He} kept them in {box} under {his} bed.", "{He} kept them all in {box}.")),
        (("{He} had {c1} {collection}.", "{He} had {c1} of them, and {he} knew every single one."), "{treasure}"),
        (("{When}, {friend} came over with a bag. \"These are for you,\" {fhe} said. "
          "Inside were {c2} more {collection}!",
          "{When}, {name} and {friend} went to the {place} and found {c2} more."),
         ("Now {name} had {c3} {collection}.", "Now {he} had {c3}!"),
         ("", "Each new one seemed {bigger} than the last."),
         ("", "Then {name} tripped, and the {collection} went everywhere. "
          "They picked up every single one and counted again: {c3}. Not one was missing.")),
        (MORAL, ENDING),
    ),
)
WORKDAY = dict(
    fields=(),
    rows=((),),
    moral=("every job helps somebody", "hard work can be fun", "you learn a lot by watching carefully"),
    story=(
        (OPENING, INTRO[0], ("{His} {parent} was {a_job}. Every day, {phe} {job_did}.",
                             "{name}'s {parent} was {a_job}, and {phe} {job_did}.")),
        (("{When}, {name} went to work with {his} {parent}.",
          "{When}, there was no school, so {name} spent the whole day at work with {Parent}."),
         ("They left the house at {time}.", "They got there at {time}.", "The ride there took {minutes} minutes.", ""),
         DETAIL,
         ("{name} watched {adv} and helped where {he} could.", "There was so much to see and do!",
          "{Parent}'s boss, {adult}, showed {name} around.")),
        (("\"Can I try?\" {name} asked.\n\"Of course,\" {said} {Parent}. \"But go slowly.\"",
          "\"What is that for?\" {name} asked again and again, and {Parent} explained everything."),
         ("{name} made a mistake, but {Parent} smiled. \"That's how everyone learns,\" {phe} said.",
          "{name} did it just right, and {Parent} gave {him} a high five.", "")),
        (("At lunch, they ate {bowl} together.", "At lunch, they shared {foods} on a bench in the sun."),
         ("\"When I grow up, I want to be {a_job2}!\" {name} said.",
          "\"When I grow up, I want to be {a_job} too,\" {name} said.")),
        (MORAL, ENDING),
    ),
)
DREAM = dict(
    fields=(),
    rows=((),),
    moral=("dreams can take you anywhere", "imagination is a kind of magic", "it is good to come home"),
    story=(
        (OPENING, INTRO[0], INTRO[1]),
        (("One night, {name} had a wonderful dream.", "That night, {name} fell asleep and began to dream."),
         ("{He} {was} in a land called {land}, where the trees were {color} and the rivers tasted like {drink}.",
          "{He} floated over a land called {land}, where {beings} lived in houses made of {foods}."),
         ("There {he} met {a_being} named {cname}.", "Soon, {a_being} named {cname} came to say hello."),
         ("", "{cname} lived with {cname2}, a grumpy old {being2} who loved {species}.")),
        (("\"Welcome to {land}!\" {said} {cname}. \"We have been waiting for you.\"",
          "\"Are you lost?\" asked {cname}.\n\"No,\" said {name}. \"I'm just dreaming.\""),
         ("{cname} taught {name} a magic word: \"{spell}!\"", "\"Say it with me,\" said {cname}. \"{spell}!\""),
         ("When {name} said it, {count} {flowers} popped out of the ground.",
          "When {name} said it, all the {animals} in {land} began to sing.")),
        (("Then {name} heard a voice calling {his} name. It was {Parent}. It was morning!",
          "Then the dream faded, and {name} woke up in {his} own bed."),
         ("At breakfast, {name} told {Parent} all about {land} and {cname}.", "{name} smiled. What a dream!")),
        (MORAL, ENDING),
    ),
)
PLOTS = (WANT, LOST, HELP, SHARE, TRIP, FEAR, MESS, MAGIC, BIRTHDAY, SHOP, COLLECT, WORKDAY, DREAM)
