# The same AssumeRole grouping in jq, over the concatenated, decompressed trail files:
# jq -n -f assume_role_grouping.jq
reduce (inputs | .Records[] | select(.eventName == "AssumeRole")) as $r ({};
  ($r.userIdentity.arn // "?") as $caller
  | ($r.requestParameters.roleArn // "?") as $role
  | .[$caller + " " + $role] += 1)
| to_entries | sort_by(-.value) | .[] | "\(.value) \(.key)"
